// Tensors to and from JavaScript: nested arrays, TypedArrays (copies and views), dtypes, shapes, bad input.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import test from 'node:test';

const vt = createRequire(import.meta.url)('../index.js');

test('nested arrays and dtypes round-trip', () => {
  const x = vt.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(x.shape, [2, 3]);
  assert.equal(x.dtype, 'float32');
  assert.deepEqual(x.toArray(), [1, 2, 3, 4, 5, 6]);
  const d = vt.tensor([1.5, 2.5], { dtype: 'float64' });
  assert.equal(d.dtype, 'float64');
  assert.ok(d.toTypedArray() instanceof Float64Array);
  const i = vt.tensor([1, 2, 3], { dtype: 'int64' });
  assert.ok(i.toTypedArray() instanceof BigInt64Array);
  assert.deepEqual(i.toArray(), [1, 2, 3]);
  assert.equal(vt.tensor([[7]]).item(), 7);
});

test('fromTypedArray copies by default and views with copy: false', () => {
  const a = new Float32Array([1, 2, 3, 4]);
  const copied = vt.fromTypedArray(a, [2, 2]);
  const viewed = vt.fromTypedArray(a, [2, 2], { copy: false });
  a[0] = 10;
  assert.deepEqual(copied.toArray(), [1, 2, 3, 4]);
  assert.deepEqual(viewed.toArray(), [10, 2, 3, 4]);
  viewed.mul_(vt.tensor(2));  // an in-place op writes the JavaScript array's memory
  assert.equal(a[1], 4);
});

test('toTypedArray(false) views a contiguous tensor and keeps it alive', () => {
  let x = vt.arange(0, 6, 1, { dtype: 'float32' });
  const view = x.toTypedArray(false);
  x.add_(vt.tensor(1));
  assert.deepEqual(Array.from(view), [1, 2, 3, 4, 5, 6]);
  x = null;
  globalThis.gc?.();
  assert.equal(view[5], 6);
  const t = vt.tensor([[1, 2], [3, 4]]).t();  // not contiguous: always a copy, in row-major order
  assert.deepEqual(Array.from(t.toTypedArray(false)), [1, 3, 2, 4]);
});

test('bad input raises a clear error', () => {
  assert.throws(() => vt.fromTypedArray(new Uint16Array(3)), { name: 'TypeError', message: /expected a Float32Array/ });
  assert.throws(() => vt.fromTypedArray(new Float32Array(6), [4, 2]), { name: 'RangeError', message: /has 8 elements but the array has 6/ });
  assert.throws(() => vt.tensor([[1, 2], [3]]), { name: 'RangeError', message: /ragged/ });
  assert.throws(() => new vt.Tensor(), { name: 'TypeError', message: /not constructible from JavaScript/ });
  assert.throws(() => vt.op('neg', [1, 2]), { name: 'TypeError', message: /'self' must be a Tensor or a number/ });
  assert.throws(() => vt.op('cat', [vt.tensor([1]), 2], 0), { name: 'TypeError', message: /must be a vibetensor Tensor/ });
});
