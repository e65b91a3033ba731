// SPDX-License-Identifier: MIT
// ioredis (pinned in package-lock.json) against tcpd, in its default settings:
// new Redis(port), which speaks RESP3 (HELLO 3) since ioredis 6. Prints one
// line per step: the reply, or the library's own error class; exits non-zero
// on a surprise. The last steps show that ioredis's defaults send a command
// again after every reconnect, a fault command included.
// With `matrix`, the fault matrix of fault_matrix.js instead, with
// commandTimeout: 300 the only option set.
// usage: node ioredis.js PORT AUTH_PORT [matrix]   (AUTH_PORT: requirepass = s3cret)
'use strict';
const Redis = require('ioredis');
const faultMatrix = require('./fault_matrix');

const [port, authPort] = process.argv.slice(2, 4).map(Number);
let step = 'start';
setTimeout(() => {
  console.log(`${step}: no answer within 20 s`);
  process.exit(3);
}, 20000).unref();

function errorName(e) {
  return `${e.constructor.name}${e instanceof Redis.ReplyError ? ' (ReplyError)' : ''}`;
}

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

// A client with the error events (also each rejected call's) kept quiet.
function client(p, options) {
  const r = new Redis(p, options);
  r.on('error', () => {});
  return r;
}

async function clientInfo(r) {
  const line = await r.client('INFO');
  return line.match(/ (resp=\d+) /)[1] + ' ' + line.match(/ (lib-name=\S*) /)[1];
}

async function resets(r) {
  return Number((await r.info('faults')).match(/fault_reset:(\d+)/)[1]);
}

// Sends FAULT RESET on a new client with options, waits ms, and tells what
// became of the call and how many resets tcpd counted meanwhile.
async function resetWith(counter, options, ms) {
  const r = client(port, options);
  await r.ping();
  const before = await resets(counter);
  let outcome = 'still pending';
  r.call('FAULT', 'RESET').then(v => { outcome = `replied ${v}`; },
      e => { outcome = errorName(e); });
  await sleep(ms);
  const n = await resets(counter) - before;
  r.disconnect();
  return { outcome, n };
}

async function main() {
  step = 'connect';
  const r = client(port);
  console.log(`connect: ${await clientInfo(r)}`);
  step = 'hello';
  const hello = await r.hello();
  console.log(`hello: proto ${hello[hello.indexOf('proto') + 1]}`);
  step = 'ping';
  console.log(`ping: ${await r.ping()}`);
  step = 'echo';
  console.log(`echo: ${await r.echo('hello tcpd')}`);
  step = 'time';
  const [secs, usecs] = (await r.time()).map(Number);
  console.log(`time: ${Math.abs(secs - Date.now() / 1000) < 5 && usecs < 1e6 ?
      'seconds and microseconds, this clock\'s' : `${secs} ${usecs}`}`);
  step = 'info';
  console.log(`info: ${(await r.info()).match(/multiplexing_api:\w+/)[0]}`);
  step = 'client setname';
  console.log(`client setname: ${await r.client('SETNAME', 'renamed')} ` +
      `${await r.client('GETNAME')}`);
  step = 'select';
  console.log(`select 0: ${await r.select(0)}`);
  step = 'connectionName';
  const named = client(port, { connectionName: 'app-io', db: 0 });
  console.log(`connectionName option, db 0: ${await named.client('GETNAME')}`);
  named.disconnect();

  step = 'password';
  const a = client(authPort, { password: 's3cret' });
  console.log(`password: ${await a.ping()}`);
  a.disconnect();
  step = 'wrong password';
  // The first call fails with the reply; the defaults then reconnect and
  // fail again for ever (as against redis-server), until disconnect().
  const w = client(authPort, { password: 'wrong' });
  try {
    await w.ping();
    console.log('wrong password: PONG');
  } catch (e) {
    console.log(`wrong password: ${errorName(e)} ${e.message}`);
  }
  w.disconnect();

  step = 'FAULT DELAY';
  const f = client(port);
  console.log(`FAULT DELAY 200: ${await f.call('FAULT', 'DELAY', '200')}`);
  const t0 = Date.now();
  const pong = await f.ping();
  console.log(`ping after it: ${pong} ${Date.now() - t0 >= 195 ? 'at least 200 ms late' :
      `after ${Date.now() - t0} ms`}`);
  f.disconnect();

  // FAULT CLOSE and FAULT RESET under the defaults: the connection drops
  // with the call unanswered, ioredis reconnects (retryStrategy), and
  // autoResendUnfulfilledCommands sends the call again, which drops the new
  // connection too, for ever: maxRetriesPerRequest (20) never trips, since
  // every reconnect succeeds and resets its count.
  step = 'FAULT RESET';
  const d = await resetWith(r, {}, 1500);
  console.log(`FAULT RESET, defaults: ${d.outcome} after 1.5 s, ` +
      `${d.n >= 3 ? 'sent again after each reconnect (3 resets or more)' : `${d.n} resets`}`);
  for (const [name, options] of [
    ['autoResendUnfulfilledCommands: false', { autoResendUnfulfilledCommands: false }],
    ['maxRetriesPerRequest: 0', { maxRetriesPerRequest: 0 }],
    ['retryStrategy: () => null', { retryStrategy: () => null }],
  ]) {
    const o = await resetWith(r, options, 600);
    console.log(`FAULT RESET, ${name}: ${o.outcome}, ${o.n} reset`);
  }
  r.disconnect();
}

async function matrix() {
  step = 'matrix';
  const control = client(port);
  await faultMatrix.run({
    name: 'ioredis',
    port,
    open: async () => {
      const r = client(port, { commandTimeout: 300 });
      await r.ping();
      return r;
    },
    call: (r, args) => r.call(...args),
    close: r => r.disconnect(),
    count: async key => Number((await control.info('faults'))
        .match(new RegExp(`${key}:(\\d+)`))[1]),
  });
  control.disconnect();
}

(process.argv[4] === 'matrix' ? matrix() : main()).then(() => process.exit(0), e => {
  console.log(`${step}: unexpected ${e.constructor.name}: ${e.message}`);
  process.exit(1);
});
