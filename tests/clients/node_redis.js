// SPDX-License-Identifier: MIT
// node-redis (npm `redis`, pinned in package-lock.json) against tcpd, in its
// default settings: createClient({ url }) and nothing else, so the protocol is
// whatever the library picks (RESP3 since node-redis 6; RESP: 2 is the second
// client here). Prints one line per step: the reply, or the library's own
// error class; exits non-zero on a surprise.
// With `matrix`, the fault matrix of fault_matrix.js instead, with the
// socket's timeout (socket: { socketTimeout: 300 }) the only option set.
// usage: node node_redis.js PORT AUTH_PORT [matrix]   (AUTH_PORT: requirepass = s3cret)
'use strict';
const { createClient, ErrorReply } = require('redis');
const faultMatrix = require('./fault_matrix');

const [port, authPort] = process.argv.slice(2, 4).map(Number);
const url = `redis://127.0.0.1:${port}`;
// The test's own deadline, inside the C test's: a hang says where it was.
let step = 'start';
setTimeout(() => {
  console.log(`${step}: no answer within 20 s`);
  process.exit(3);
}, 20000).unref();

function errorName(e) {
  return `${e.constructor.name}${e instanceof ErrorReply ? ' (ErrorReply)' : ''}`;
}

async function connected(options) {
  const c = createClient(options);
  c.on('error', () => {});	// a socket error is also the rejected call's
  await c.connect();
  return c;
}

// This connection's protocol and library, as tcpd's CLIENT INFO shows them.
async function clientInfo(c) {
  const line = String(await c.sendCommand(['CLIENT', 'INFO']));
  return line.match(/ (resp=\d+) /)[1] + ' ' + line.match(/ (lib-name=\S*) /)[1];
}

async function resets(c) {
  return Number(String(await c.info('faults')).match(/fault_reset:(\d+)/)[1]);
}

async function main() {
  step = 'connect';
  const c = await connected({ url });
  console.log(`connect: ${await clientInfo(c)}`);
  step = 'hello';
  console.log(`hello: proto ${(await c.hello()).proto}`);
  step = 'ping';
  console.log(`ping: ${await c.ping()}`);
  step = 'echo';
  console.log(`echo: ${await c.echo('hello tcpd')}`);
  step = 'time';
  const [secs, usecs] = (await c.time()).map(Number);
  console.log(`time: ${Math.abs(secs - Date.now() / 1000) < 5 && usecs < 1e6 ?
      'seconds and microseconds, this clock\'s' : `${secs} ${usecs}`}`);
  step = 'info';
  console.log(`info: ${String(await c.info()).match(/multiplexing_api:\w+/)[0]}`);
  step = 'clientSetName';
  console.log(`clientSetName: ${await c.clientSetName('renamed')} ${await c.clientGetName()}`);
  step = 'select';
  await c.select(0);	// resolves to undefined, against redis-server too
  console.log('select 0: resolved');
  try {
    await c.select(1);
    console.log('select 1: no error');
  } catch (e) {
    console.log(`select 1: ${errorName(e)} ${e.message}`);
  }
  step = 'name option';
  const named = await connected({ url: `${url}/0`, name: 'app-node' });
  console.log(`name option, /0 in the url: ${await named.clientGetName()}`);
  named.destroy();

  step = 'RESP 2';
  const two = await connected({ url, RESP: 2, name: 'app-resp2' });
  console.log(`RESP 2: ${await clientInfo(two)} ${await two.clientGetName()} ` +
      `${await two.ping()}`);
  two.destroy();

  step = 'password';
  const authUrl = `redis://:s3cret@127.0.0.1:${authPort}`;
  for (const RESP of [undefined, 2]) {
    const a = await connected({ url: authUrl, ...(RESP ? { RESP } : {}) });
    console.log(`password${RESP ? ', RESP 2' : ''}: ${await a.ping()}`);
    a.destroy();
  }
  step = 'wrong password';
  // connect() never settles: the default reconnectStrategy retries WRONGPASS
  // for ever (as against redis-server). The first 'error' event carries it.
  const w = createClient({ url: `redis://:wrong@127.0.0.1:${authPort}` });
  const first = new Promise(resolve => w.once('error', resolve));
  w.on('error', () => {});
  w.connect().catch(() => {});
  const e = await first;
  console.log(`wrong password: ${errorName(e)} ${e.message}`);
  w.destroy();

  step = 'FAULT DELAY';
  const f = await connected({ url });
  console.log(`FAULT DELAY 200: ${await f.sendCommand(['FAULT', 'DELAY', '200'])}`);
  const t0 = Date.now();
  const pong = await f.ping();
  console.log(`ping after it: ${pong} ${Date.now() - t0 >= 195 ? 'at least 200 ms late' :
      `after ${Date.now() - t0} ms`}`);
  f.destroy();

  step = 'FAULT CLOSE';
  const cl = await connected({ url });
  try {
    await cl.sendCommand(['FAULT', 'CLOSE']);
    console.log('FAULT CLOSE: a reply');
  } catch (e) {
    console.log(`FAULT CLOSE: ${errorName(e)}`);
  }
  console.log(`ping after the reconnect: ${await cl.ping()}`);
  cl.destroy();

  step = 'FAULT RESET';
  // The call in flight fails with the socket's error and is not sent again;
  // a call made while reconnecting waits in the offline queue.
  const before = await resets(c);
  const r = await connected({ url });
  try {
    await r.sendCommand(['FAULT', 'RESET']);
    console.log('FAULT RESET: a reply');
  } catch (e) {
    console.log(`FAULT RESET: ${errorName(e)} ${e.code}`);
  }
  const queued = await r.ping();
  await new Promise(resolve => setTimeout(resolve, 500));
  console.log(`after it: ${queued} (queued while reconnecting), ` +
      `${await resets(c) - before} reset in INFO`);
  r.destroy();
  c.destroy();
}

async function matrix() {
  step = 'matrix';
  const control = await connected({ url });
  await faultMatrix.run({
    name: 'node-redis',
    port,
    open: () => connected({ url, socket: { socketTimeout: 300 } }),
    call: (c, args) => c.sendCommand(args),
    close: c => c.destroy(),
    count: async key => Number(String(await control.info('faults'))
        .match(new RegExp(`${key}:(\\d+)`))[1]),
  });
  control.destroy();
}

(process.argv[4] === 'matrix' ? matrix() : main()).then(() => process.exit(0), e => {
  console.log(`${step}: unexpected ${e.constructor.name}: ${e.message}`);
  process.exit(1);
});
