// SPDX-License-Identifier: MIT
// A Toxiproxy-style test, written as its users write one against Toxiproxy
// with toxiproxy-node-client (npm, pinned in package-lock.json), pointed at
// tcpd's control listener instead, with node-redis (npm `redis`) for the
// application's one Redis connection to a real redis-server. Prints one line
// per step: what the client libraries returned or threw, and whether each
// time held; exits non-zero on a surprise.
// usage: node toxiproxy_node.js CONTROL_PORT REDIS_PORT
'use strict';
const net = require('node:net');
const { Toxiproxy } = require('toxiproxy-node-client');
const { createClient } = require('redis');

const [controlPort, redisPort] = process.argv.slice(2, 4).map(Number);
let step = 'start';
setTimeout(() => {
  console.log(`${step}: no answer within 25 s`);
  process.exit(3);
}, 25000).unref();

// How long one GET takes, in ms, with its reply.
async function timedGet(c, key) {
  const t0 = process.hrtime.bigint();
  const v = await c.get(key);
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

// A new connection's outcome: 'connected', or the socket's error code.
function connectOutcome(hostPort) {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const s = net.connect(Number(port), host);
    s.on('connect', () => { s.destroy(); resolve('connected'); });
    s.on('error', (e) => resolve(e.code));
  });
}

function proxyLine(p, upstream) {
  return `${p.name} listen ${/^127\.0\.0\.1:[1-9]\d*$/.test(p.listen) ? '127.0.0.1:a port' :
    p.listen} upstream ${p.upstream === upstream ? 'redis-server' : p.upstream} ` +
    `enabled ${p.enabled}`;
}

async function main() {
  const toxiproxy = new Toxiproxy(`http://localhost:${controlPort}`);
  const upstream = `127.0.0.1:${redisPort}`;

  step = 'createProxy';
  const proxy = await toxiproxy.createProxy({
    name: 'redis', listen: 'localhost:0', upstream: `localhost:${redisPort}`,
  });
  console.log(`createProxy: ${proxyLine(proxy, upstream)}`);

  // The application's one connection, made once, as a test suite's would be.
  step = 'connect';
  const errors = [];
  const c = createClient({ url: `redis://${proxy.listen}` });
  c.on('error', (e) => errors.push(e));
  await c.connect();
  await c.set('k', 'v');
  const id = await c.clientId();
  let [v, ms] = await timedGet(c, 'k');
  console.log(`get: ${v}`);

  step = 'latency';
  const latency = await proxy.addToxic({
    type: 'latency', stream: 'downstream', attributes: { latency: 500 },
  });
  console.log(`addToxic: ${latency.name} ${latency.type} ${latency.stream} ` +
      `toxicity ${latency.toxicity} ${JSON.stringify(latency.attributes)}`);
  [v, ms] = await timedGet(c, 'k');
  console.log(`get with 500 ms: ${v}${ms >= 500 ? ', at least 500 ms' : ` after ${Math.round(ms)} ms`}`);

  step = 'update';
  const slower = await latency.update({ attributes: { latency: 700 } });
  console.log(`update: latency ${slower.attributes.latency}`);
  [v, ms] = await timedGet(c, 'k');
  console.log(`get with 700 ms: ${v}${ms >= 700 ? ', at least 700 ms' : ` after ${Math.round(ms)} ms`}`);

  // Under 200 ms: far below the 500 ms a toxic left behind would add, and
  // room for a loopback round trip on a loaded two-core CI box (an ASan
  // tcpd, builds beside it), where tens of ms happen.
  step = 'remove';
  await slower.remove();
  [v, ms] = await timedGet(c, 'k');
  console.log(`remove: ${v}${ms < 200 ? ', under 200 ms' : ` after ${Math.round(ms)} ms`}`);
  console.log(`same connection: ${await c.clientId() === id && errors.length === 0}`);

  // reset_peer reaches the open connection: node-redis's own error, on the
  // client's error event (no command was waiting), then its reconnecting.
  step = 'reset_peer';
  const reset = await proxy.addToxic({ type: 'reset_peer', attributes: { timeout: 0 } });
  console.log(`addToxic: ${reset.name} ${reset.type} ${reset.stream}`);
  for (let i = 0; i < 300 && errors.length === 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  const e = errors[0];
  console.log(`reset_peer: ${e ? `${e.constructor.name} ${e.code}` : 'no error within 3 s'}`);

  // /reset takes the toxic off; the client's reconnect then goes through.
  step = '/reset';
  await toxiproxy.reset();
  console.log(`reset: ${proxyLine(await toxiproxy.get('redis'), upstream)}`);
  [v] = await timedGet(c, 'k');
  console.log(`get after /reset: ${v}, reconnected ${await c.clientId() !== id}`);

  step = 'populate';
  const want = [
    { name: 'redis', listen: proxy.listen, upstream: `localhost:${redisPort}`, enabled: true },
    { name: 'redis_replica', listen: 'localhost:0', upstream },
  ];
  const first = await toxiproxy.populate(want);
  console.log(`populate: ${Object.values(first).map((p) => proxyLine(p, upstream)).join(', ')}`);
  const again = await toxiproxy.populate(want);
  const same = JSON.stringify(Object.values(again).map((p) => p.toJson())) ===
      JSON.stringify(Object.values(first).map((p) => p.toJson()));
  console.log(`populate again: ${same ? 'the same' : JSON.stringify(again)}`);
  const id2 = await c.clientId();
  [v] = await timedGet(c, 'k');
  console.log(`get after populate: ${v}, same connection ${await c.clientId() === id2}`);

  step = 'disable';
  const disabled = await proxy.update({ enabled: false });
  console.log(`update enabled false: ${proxyLine(disabled, upstream)}`);
  console.log(`new connection: ${await connectOutcome(proxy.listen)}`);
  step = 'enable';
  const enabled = await proxy.update({ enabled: true });
  console.log(`update enabled true: ${proxyLine(enabled, upstream)}`);
  const d = createClient({ url: `redis://${proxy.listen}` });
  d.on('error', () => {});
  await d.connect();
  console.log(`new client: ${await d.get('k')}`);

  step = 'cleanup';
  d.destroy();
  c.destroy();
  await proxy.remove();
  await (await toxiproxy.get('redis_replica')).remove();
  console.log(`proxies left: ${Object.keys(await toxiproxy.getAll()).length}`);
}

main().then(() => process.exit(0), (e) => {
  console.log(`${step}: ${e.constructor.name} ${e.message}`);
  process.exit(1);
});
