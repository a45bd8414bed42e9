// One round of benchmarks/bench_node_op.py in node: per-call host cost (us) of one op from JavaScript,
// printed as JSON. Usage: node benchmarks/node_op_cost.mjs CALLS DEVICE
import { createRequire } from 'node:module';

const vt = createRequire(import.meta.url)('../node/index.js');
const calls = Number(process.argv[2] || 20000);
const device = process.argv[3] || 'cpu';
const x = vt.ones([4]).to(device);
const y = vt.ones([4]).to(device);

function perCall(fn, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n / 1000;
}

async function perAwait(n) {  // one op at a time: the latency of a Promise round trip
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await vt.opAsync('add', x, y);
  return Number(process.hrtime.bigint() - t0) / n / 1000;
}

async function pipelined(n, width) {  // `width` in flight at once: the throughput of async calls
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += width) {
    const batch = [];
    for (let j = 0; j < width && i + j < n; j++) batch.push(vt.opAsync('add', x, y));
    await Promise.all(batch);
  }
  return Number(process.hrtime.bigint() - t0) / n / 1000;
}

perCall(() => vt.op('add', x, y), 2000);  // warm-up
await perAwait(200);
const out = {
  'js vt.op(add)': perCall(() => vt.op('add', x, y), calls),
  'js x.add(y)': perCall(() => x.add(y), calls),
  'js await opAsync(add)': await perAwait(Math.max(200, calls / 20)),
  'js opAsync(add), 32 in flight': await pipelined(Math.max(640, calls / 4), 32),
};
console.log(JSON.stringify(out));
