// Async ops: Promises settled on the JS thread, errors as rejections, the cap on ops in flight.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import test from 'node:test';

const vt = createRequire(import.meta.url)('../index.js');

test('async ops resolve with their results and reject with their errors', async () => {
  const x = vt.randn([64, 64]);
  const y = await x.matmulAsync(x);
  const z = x.matmul(x);
  assert.deepEqual(y.toArray(), z.toArray());
  await assert.rejects(vt.opAsync('add', x, vt.ones([3])), { name: 'RangeError', message: /cannot be broadcast/ });
  const loss = x.mul(x).sum();
  x.requiresGrad = false;  // x is a leaf without grad here: grad of a fresh leaf instead
  const w = vt.randn([4], { requiresGrad: true });
  await w.mul(w).sum().backwardAsync();
  assert.equal(w.grad.shape[0], 4);
  assert.ok(loss.item() > 0);
});

test('many ops in flight settle, in any order, with correct results', async () => {
  const xs = Array.from({ length: 32 }, (_, i) => vt.full([256], i));
  const ys = await Promise.all(xs.map((x) => x.addAsync(x)));
  ys.forEach((y, i) => assert.equal(y.toArray()[255], 2 * i));
  assert.equal(vt.inFlight(), 0);
});

test('over the cap, an async op is rejected at once with a clear error', async () => {
  const prev = vt.maxInFlight();
  vt.setMaxInFlight(2);
  try {
    const x = vt.randn([512, 512]);
    const started = [x.matmulAsync(x), x.matmulAsync(x)];
    await assert.rejects(x.matmulAsync(x), { name: 'RangeError', message: /2 async operations are in flight, the cap .* is 2/ });
    await Promise.all(started);
    assert.equal(vt.inFlight(), 0);
    await x.addAsync(x);  // room again
  } finally {
    vt.setMaxInFlight(prev);
  }
  assert.throws(() => vt.setMaxInFlight(0), { name: 'RangeError' });
});

test('VT_NODE_MAX_INFLIGHT sets the cap a process starts with, and a bad value is refused', async () => {
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const index = fileURLToPath(new URL('../index.js', import.meta.url));
  const run = (value) => execFileSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(index)}).maxInFlight())`],
    { env: { ...process.env, VT_NODE_MAX_INFLIGHT: value }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(run('3').trim(), '3');
  assert.throws(() => run('0'), (e) => /VT_NODE_MAX_INFLIGHT: expected a positive integer, got '0'/.test(e.stderr));
});
