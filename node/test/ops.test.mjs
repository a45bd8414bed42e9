// Ops through the dispatcher by name: arguments by schema (positional, options object, defaults), results,
// errors, plugin ops, policies and probes.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import test from 'node:test';

const vt = createRequire(import.meta.url)('../index.js');

function close(a, b, tol = 1e-5) {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tol * (1 + Math.abs(b[i])), `${i}: ${x} vs ${b[i]}`));
}

test('arithmetic, matmul and reductions match JavaScript loops', () => {
  const A = [[1, 2, 3], [4, 5, 6]];
  const B = [[1, 0], [0, 1], [2, -1]];
  const a = vt.tensor(A);
  const b = vt.tensor(B);
  const expected = A.map((r) => [0, 1].map((j) => r.reduce((s, x, k) => s + x * B[k][j], 0))).flat();
  close(a.matmul(b).toArray(), expected);
  close(a.add(a, 2).toArray(), A.flat().map((x) => 3 * x));   // alpha positionally
  close(a.mul(0.5).toArray(), A.flat().map((x) => x / 2));     // a number as a wrapped scalar
  close(a.sum({ dim: [1] }).toArray(), [6, 15]);                // an options object
  close(a.sum({ dim: 0, keepdim: true }).toArray(), [5, 7, 9]);
  assert.deepEqual(a.sum({ dim: 0, keepdim: true }).shape, [1, 3]);
  close(a.softmax(1).sum({ dim: 1 }).toArray(), [1, 1]);
  close(vt.op('exp', vt.tensor([0, 1])).toArray(), [1, Math.E]);
});

test('the schema is followed: missing, unknown and mistyped arguments', () => {
  const a = vt.tensor([1, 2]);
  assert.match(vt.schema('softmax'), /^vt::softmax\(Tensor self, int dim\)/);
  assert.throws(() => vt.op('softmax', a), { name: 'TypeError', message: /vt::softmax: missing argument 'dim'/ });
  assert.throws(() => vt.op('softmax', a, 0.5), { name: 'TypeError', message: /'dim' must be an integer/ });
  assert.throws(() => vt.op('sum', a, { dims: [0] }), { name: 'TypeError', message: /unknown option 'dims'/ });
  assert.throws(() => vt.op('no_such_op', a), { name: 'TypeError', message: /no op named vt::no_such_op/ });
  assert.throws(() => vt.op('add', a, vt.ones([3])), { name: 'RangeError', message: /cannot be broadcast/ });
  assert.throws(() => vt.op('add', a, 'x'), { name: 'TypeError', message: /'other' must be a Tensor or a number/ });
});

test('policies and probe counters are readable and settable from JavaScript', () => {
  const prev = vt.policy.get('probes.counters');
  try {
    vt.policy.set('probes.counters', 'on');
    vt.probes.resetCounters();
    vt.tensor([1]).add(vt.tensor([2]));
    assert.ok(vt.probes.counters().ops_dispatched >= 1);
    assert.equal(vt.policy.current()['probes.counters'], 'on');
    assert.throws(() => vt.policy.set('probes.counters', 'sometimes'), /sometimes/);
    assert.throws(() => vt.policy.get('no.such.policy'), /no.such.policy/);
  } finally {
    vt.policy.set('probes.counters', prev);
  }
});

test('CUDA: device tensors where the build has it, else a clear error', () => {
  const x = vt.tensor([1, 2, 3]);
  if (!vt.cuda.isAvailable()) {
    assert.throws(() => x.to('cuda'), /cuda/);
    return;
  }
  const y = x.to('cuda').mul(2);
  assert.equal(y.device, 'cuda:0');
  vt.cuda.synchronize();
  assert.deepEqual(y.toArray(), [2, 4, 6]);
});

// The example plugin (examples/plugin), built by tests/test_node_frontend.py and named in VT_TEST_PLUGIN: its
// ops join the dispatcher from JS as from Python, with their backward op.
test('a plugin loaded from JS runs its ops through the dispatcher, autograd included', { skip: !process.env.VT_TEST_PLUGIN }, () => {
  const names = vt.loadLibrary(process.env.VT_TEST_PLUGIN);
  assert.ok(names.includes('myplug::scale') && names.includes('myplug::add'), String(names));
  const x = vt.tensor([[1, -2], [3, 4]], { requiresGrad: true });
  const y = vt.op('myplug::scale', x, 2.5);
  close(y.toArray(), [2.5, -5, 7.5, 10]);
  y.sum().backward();
  close(x.grad.toArray(), [2.5, 2.5, 2.5, 2.5]);
  close(vt.op('myplug::add', vt.ones([3]), vt.ones([3])).toArray(), [2, 2, 2]);
  assert.throws(() => vt.op('myplug::fail', vt.ones([2])), /myplug/);
});
