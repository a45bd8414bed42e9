'use strict';
// vibetensor from JavaScript: tensors, every dispatcher op by name (sync and async), autograd, policies and
// probes over the C++ core (Note [Node frontend] in csrc/node/addon.cpp). Build the addon first:
// `node node/build.js` (the README's test command does). VT_NODE_ADDON overrides the addon's path.
const path = require('path');

const native = require(process.env.VT_NODE_ADDON || path.join(__dirname, '..', 'build', 'node', 'vt_node.node'));
const { Tensor } = native;

// Op handles, resolved once per name (the addon reads arguments by the op's schema).
const handles = new Map();
function handle(name) {
  let h = handles.get(name);
  if (h === undefined) {
    h = native.opHandle(name);
    handles.set(name, h);
  }
  return h;
}

/** Runs op `name` ("add", "matmul", or a plugin's "myplug::scale") synchronously: the JS thread waits for it. */
function op(name, ...args) {
  return native.call(handle(name), ...args);
}

/** Runs op `name` on a worker thread; the Promise resolves with its result (see setMaxInFlight). */
function opAsync(name, ...args) {
  return native.callAsync(handle(name), ...args);
}

const DTYPE_ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array };

function flatten(data, shape, out) {
  if (Array.isArray(data)) {
    if (shape.length === out.depth) shape.push(data.length);
    else if (shape[out.depth] !== data.length) throw new RangeError('tensor: ragged nested arrays');
    out.depth++;
    for (const x of data) flatten(x, shape, out);
    out.depth--;
  } else {
    out.values.push(data);
  }
}

/** A tensor from a number, a (nested) array or a TypedArray (copied), as vt.tensor / torch.tensor. */
function tensor(data, { dtype, device, requiresGrad = false } = {}) {
  let t;
  if (ArrayBuffer.isView(data)) {
    t = native.fromTypedArray(data, undefined, true);
  } else {
    const shape = [];
    const out = { depth: 0, values: [] };
    flatten(data, shape, out);
    const Arr = DTYPE_ARRAYS[dtype || 'float32'] || Float32Array;
    const values = Arr === BigInt64Array ? out.values.map(BigInt) : out.values;
    t = native.fromTypedArray(Arr.from(values), shape, true);
  }
  if (dtype && t.dtype !== dtype) t = op('to_dtype', t, dtype);
  if (device && device !== 'cpu') t = op('to_device', t, device);
  if (requiresGrad) t.requiresGrad = true;
  return t;
}

function factory(name, ...lead) {
  return (shape, { dtype = null, device = null, requiresGrad = false } = {}) => {
    const t = op(name, shape, ...lead, dtype, device);
    if (requiresGrad) t.requiresGrad = true;
    return t;
  };
}

/** Runs fn with gradient recording off (for the async ops it starts before its first await too). */
function noGrad(fn) {
  const prev = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

function backwardArgs(tensors, grads) {
  return [Array.isArray(tensors) ? tensors : [tensors], grads == null ? null : Array.isArray(grads) ? grads : [grads]];
}

const vt = {
  Tensor,
  op,
  opAsync,
  tensor,
  /** A CPU tensor over a TypedArray: a copy, or with {copy: false} a view of its memory (do not transfer it). */
  fromTypedArray: (array, shape, { copy = true } = {}) => native.fromTypedArray(array, shape, copy),
  zeros: (shape, opts) => factory('full', 0)(shape, opts),
  ones: (shape, opts) => factory('full', 1)(shape, opts),
  full: (shape, value, opts) => factory('full', value)(shape, opts),
  empty: factory('empty'),
  randn: factory('randn'),
  rand: factory('rand'),
  arange: (start, end, step = 1, { dtype = null, device = null } = {}) => op('arange', start, end, step, dtype, device),
  /** Accumulates d(tensors)/d(leaf) into each leaf's .grad (grads: one per tensor, or null for scalars). */
  backward: (tensors, grads = null, { retainGraph = false, createGraph = false } = {}) =>
    native.backward(...backwardArgs(tensors, grads), retainGraph, createGraph),
  backwardAsync: (tensors, grads = null, { retainGraph = false, createGraph = false } = {}) =>
    native.backwardAsync(...backwardArgs(tensors, grads), retainGraph, createGraph),
  /** The gradients of outputs with respect to inputs, as an array (null for an unused input with allowUnused). */
  grad: (outputs, inputs, { gradOutputs = null, retainGraph = false, createGraph = false, allowUnused = false } = {}) => {
    const [outs, gradOuts] = backwardArgs(outputs, gradOutputs);
    return native.grad(outs, Array.isArray(inputs) ? inputs : [inputs], gradOuts, retainGraph, createGraph, allowUnused);
  },
  noGrad,
  isGradEnabled: native.isGradEnabled,
  policy: {
    get: native.policyGet,
    set: native.policySet,
    /** A spec as VT_POLICY takes it: "preset=vibe,autograd.gate=per_graph". */
    apply: native.policyApply,
    current: native.policyCurrent,
  },
  probes: { counters: native.counters, resetCounters: native.resetCounters },
  cuda: {
    isAvailable: () => native.cudaDeviceCount() > 0,
    deviceCount: native.cudaDeviceCount,
    synchronize: native.cudaSynchronize,
  },
  /** Loads an operator plugin (vt_plugin.h); its ops are then vt.op('ns::name', ...). */
  loadLibrary: native.loadLibrary,
  setMaxInFlight: native.setMaxInFlight,
  maxInFlight: native.maxInFlight,
  inFlight: native.inFlight,
  schema: (name) => native.opSchema(handle(name)),
  opNames: native.opNames,
};

// Tensor methods: x.add(y), x.logSoftmax(-1), x.sum({dim: [1]}), each with an Async twin (x.addAsync(y)).
const METHODS = ['add', 'sub', 'mul', 'div', 'pow', 'matmul', 'neg', 'exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'relu',
  'gelu', 'softmax', 'log_softmax', 'sum', 'mean', 'argmax', 'transpose', 'reshape', 'view', 'contiguous', 'clone',
  'cross_entropy', 'nll_loss', 'eq', 'add_', 'sub_', 'mul_', 'zero_'];
const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
for (const name of METHODS) {
  const m = name.endsWith('_') ? name : camel(name);
  Tensor.prototype[m] = function (...args) { return op(name, this, ...args); };
  Tensor.prototype[`${m}Async`] = function (...args) { return opAsync(name, this, ...args); };
}
/** x.to('cuda') / x.to('float64'). */
Tensor.prototype.to = function (target) {
  return /^(cpu|cuda)/.test(target) ? op('to_device', this, target) : op('to_dtype', this, target);
};
Tensor.prototype.t = function () { return op('transpose', this, 0, 1); };
Tensor.prototype.backward = function (grad = null, opts) { return vt.backward(this, grad, opts); };
Tensor.prototype.backwardAsync = function (grad = null, opts) { return vt.backwardAsync(this, grad, opts); };
Tensor.prototype.toArray = function () {
  const a = this.toTypedArray();
  return a instanceof BigInt64Array ? Array.from(a, Number) : Array.from(a);
};
Tensor.prototype.toString = function () {
  return `Tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`;
};

module.exports = vt;
