// SPDX-License-Identifier: MIT
// The fault matrix of node_redis.js and ioredis.js (their `matrix` mode): for
// each fault, a fresh client with a 300 ms timeout (the library's own option)
// and otherwise its defaults sends the fault, and one line tells what the
// library raised and whether it sent the fault command again, as tcpd's
// `fault_NAME` counter in INFO faults shows it on a separate control client:
//   library | fault | error class (or "none: <reply>") | retried: yes/no
// Every step lasts 1.5 s from the fault, so that retries show, and its client
// is closed before the next, so no retry loop outlives it.
'use strict';

const LONG = 'x'.repeat(100);
const SETTLE_MS = 1500;

// The fault's counter, then the calls: every call but the last is awaited and
// must succeed; the last one's outcome is the line's.
const FAULTS = [
  ['DELAY', 'delay', [['FAULT', 'DELAY', '1000'], ['PING']]],
  ['STALL', 'stall', [['FAULT', 'STALL', '1000']]],
  ['CLOSE', 'close', [['FAULT', 'CLOSE']]],
  ['RESET', 'reset', [['FAULT', 'RESET']]],
  ['TRUNCATE', 'truncate', [['FAULT', 'TRUNCATE'], ['ECHO', LONG]]],
  ['GARBAGE', 'garbage', [['FAULT', 'GARBAGE', '16']]],
  ['ERROR', 'error', [['FAULT', 'ERROR', 'boom']]],
];

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

// A reply as the table shows it: the 100-byte ECHO by its length.
function shorten(v) {
  return v.length > 20 ? `${v.slice(0, 3)}... (${v.length} bytes)` : v;
}

// The error's class, its code if it has one, and a plain Error's message
// (ioredis raises plain Errors), ports taken out.
function describe(e, port) {
  let s = e.constructor.name;
  if (typeof e.code === 'string')
    s += ` ${e.code}`;
  else if (e.constructor === Error)
    s += `: ${e.message.split(`:${port}`).join(':PORT')}`;
  return s;
}

// lib: { name, port, open(): Promise<client> (connected, 300 ms timeout),
// call(client, args): Promise, close(client), count(name): Promise<number>
// (on the control client) }.
async function run(lib) {
  for (const [fault, counter, calls] of FAULTS) {
    const key = `fault_${counter}`;
    const before = await lib.count(key);
    const c = await lib.open();
    const t0 = Date.now();
    let outcome = 'none: still pending';
    let settled = false;
    for (let i = 0; i < calls.length - 1; i++)
      await lib.call(c, calls[i]);
    lib.call(c, calls[calls.length - 1]).then(
        v => { if (!settled) outcome = `none: ${shorten(String(v))}`; },
        e => { if (!settled) outcome = describe(e, lib.port); });
    await sleep(Math.max(0, SETTLE_MS - (Date.now() - t0)));
    settled = true;
    const n = await lib.count(key) - before;
    lib.close(c);
    console.log(`${lib.name} | ${fault} | ${outcome} | retried: ${n > 1 ? 'yes' : 'no'}`);
  }
}

module.exports = { run };
