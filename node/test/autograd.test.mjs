// Autograd from JavaScript: backward, grad, double backward, noGrad, and the softmax-regression example.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import test from 'node:test';

const require = createRequire(import.meta.url);
const vt = require('../index.js');

test('backward accumulates .grad; grad returns gradients', () => {
  const x = vt.tensor([1, 2, 3], { requiresGrad: true });
  const y = x.mul(x).sum();
  assert.equal(y.gradFn, 'SumBackward0');
  y.backward();
  assert.deepEqual(x.grad.toArray(), [2, 4, 6]);
  const [g] = vt.grad(x.mul(x).mul(x).sum(), x);
  assert.deepEqual(g.toArray(), [3, 12, 27]);
  assert.throws(() => { x.add(1).requiresGrad = false; }, /leaf/);
});

test('double backward: createGraph gives gradients with a history', () => {
  const x = vt.tensor([0.5, -1.5], { requiresGrad: true });
  const [g] = vt.grad(x.pow(3).sum(), x, { createGraph: true });   // 3x^2
  assert.ok(g.requiresGrad);
  const [h] = vt.grad(g.sum(), x);                                  // 6x
  assert.deepEqual(h.toArray(), [3, -9]);
});

test('noGrad records nothing, for sync ops and for async ops it starts', async () => {
  const x = vt.tensor([1, 2], { requiresGrad: true });
  const [a, pending] = vt.noGrad(() => [x.mul(2), x.mulAsync(2)]);
  assert.equal(a.requiresGrad, false);
  assert.equal((await pending).requiresGrad, false);
  assert.equal(x.mul(2).requiresGrad, true);
  assert.equal(vt.isGradEnabled(), true);
});

test('the softmax regression example trains', async () => {
  const { train } = await import('../examples/softmax_regression.mjs');
  const losses = await train(60, 0.5);
  assert.ok(losses.at(-1) < losses[0] / 2, `loss ${losses[0]} -> ${losses.at(-1)}`);
});
