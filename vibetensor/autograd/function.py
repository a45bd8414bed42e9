"""Custom autograd Functions: subclass Function, write forward(ctx, ...) and backward(ctx, *grads),
call Function.apply(...). The C++ engine calls backward through a PyNode (_C._record_function)."""
import atexit

from vibetensor import _C
from vibetensor.autograd.grad_mode import no_grad

Tensor = _C.Tensor
_ops = _C._ops


class FunctionCtx:
    """The ctx passed to forward and backward."""

    def __init__(self):
        self._saved = ()
        self._saved_versions = ()
        self._non_differentiable = set()
        self.materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        """Saves tensors (or None) for backward. Stored as detached aliases sharing memory (and the
        version counter): the node then holds no reference back to the graph, so saving an output
        makes no reference cycle through C++ that Python's GC could not collect."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is not a Tensor "
                                f"({type(t).__name__}); store other values as ctx attributes")
        self._saved = tuple(None if t is None else t.detach() for t in tensors)
        self._saved_versions = tuple(None if t is None else t._version for t in tensors)

    @property
    def saved_tensors(self):
        for i, (t, v) in enumerate(zip(self._saved, self._saved_versions)):
            if t is not None and t._version != v:
                raise RuntimeError(f"one of the variables needed for gradient computation has been modified by an "
                                   f"inplace operation: saved tensor {i} of shape {list(t.shape)} is at version "
                                   f"{t._version}; expected version {v} instead.")
        return self._saved

    def mark_non_differentiable(self, *outputs):
        """Outputs that get no gradient (e.g. indices); backward receives zeros (or None) for them."""
        self._non_differentiable.update(id(o) for o in outputs)

    def set_materialize_grads(self, value):
        """materialize_grads=True (default): backward gets zeros for outputs that got no gradient;
        False: it gets None."""
        self.materialize_grads = bool(value)


class Function:
    """Base class of custom autograd functions (used through its classmethod apply)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grad_outputs) to be differentiated")

    def __init__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__}: custom Functions are used through the classmethod apply(), "
                           f"e.g. {type(self).__name__}.apply(x); do not instantiate them")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        is_tuple = isinstance(outputs, tuple)
        outs = list(outputs) if is_tuple else [outputs]
        if not (_C.is_grad_enabled() and any(ctx.needs_input_grad)):
            return outputs
        tensor_inputs = [a for a in args if isinstance(a, Tensor)]
        tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        for i, o in enumerate(outs):
            # An input returned as is becomes a new alias, so the input itself keeps its history.
            if isinstance(o, Tensor) and any(o._is_same(t) for t in tensor_inputs):
                outs[i] = o.detach()
        diff = [i for i, o in enumerate(outs)
                if isinstance(o, Tensor) and o.dtype.is_floating_point and id(o) not in ctx._non_differentiable
                and id(outputs[i] if is_tuple else outputs) not in ctx._non_differentiable]
        # The closure below is owned by the C++ node, which the outputs own: it must hold no
        # tensors (a cycle through C++ that Python's GC cannot see), only their metadata.
        out_metas = [(list(o.shape), o.dtype, o.device) if isinstance(o, Tensor) else None for o in outs]
        in_metas = [(i, list(args[i].shape), args[i].dtype, args[i].requires_grad) for i in tensor_positions]
        n_args = len(args)
        name = f"{cls.__name__}Backward"

        def backward_fn(*grads):
            full = [None] * len(out_metas)
            for slot, g in zip(diff, grads):
                full[slot] = g
            if ctx.materialize_grads:
                for i, g in enumerate(full):
                    if g is None and out_metas[i] is not None:
                        shape, dtype, device = out_metas[i]
                        full[i] = _ops.full(shape, 0, dtype, device)
            create_graph = _C.is_grad_enabled()  # the engine's grad mode: on under create_graph
            with no_grad():
                result = cls.backward(ctx, *full)
            result = result if isinstance(result, tuple) else (result,)
            if len(result) < n_args or any(g is not None for g in result[n_args:]):
                raise RuntimeError(f"function {name} returned an incorrect number of gradients (expected {n_args}, "
                                   f"got {len(result)})")
            checked = tuple(_checked_grad(name, i, result[i], shape, dtype, requires_grad)
                            for i, shape, dtype, requires_grad in in_metas)
            return _once_differentiable(name, checked, grads) if create_graph else checked

        if diff:
            _C._record_function(backward_fn, name, tensor_inputs, [outs[i] for i in diff])
        return tuple(outs) if is_tuple else outs[0]


# Note [Custom Function double backward]
# A custom Function's backward runs under no_grad, so its gradients carry no graph of their own. Under
# create_graph they get one node instead, tied to the incoming gradients, that raises when a second
# backward reaches it (torch's once_differentiable): a clear error where a silent zero or "does not
# require grad" would follow. Running the backward with grad mode on instead (torch's default) gave wrong
# second derivatives through vibetensor's composed convolution (its saved, padded input has no history).
def _once_differentiable(name, grads_out, grads_in):
    sources = [g for g in grads_in if isinstance(g, Tensor) and g.requires_grad]
    outs = [g for g in grads_out if g is not None]
    if not sources or not outs:
        return grads_out

    def refuse(*_):
        raise NotImplementedError(f"{name}: differentiating through this custom Function's backward is not "
                                  "supported (create_graph=True needs its second derivative; its backward runs "
                                  "once, without a graph: Note [Custom Function double backward])")

    detached = tuple(None if g is None else g.detach() for g in grads_out)
    _C._record_function(refuse, f"{name}DoubleBackward", sources, [g for g in detached if g is not None])
    return detached


def _checked_grad(name, index, g, shape, dtype, requires_grad):
    """A gradient returned by a custom backward, checked against its input's shape and dtype
    (summed when broadcast)."""
    if g is None or not requires_grad:
        return None
    if not isinstance(g, Tensor):
        raise TypeError(f"function {name} returned a gradient of type {type(g).__name__} at index {index}; expected a "
                        "Tensor or None")
    if list(g.shape) != shape:
        try:
            g = _ops.sum_to_size(g, shape)
        except (RuntimeError, ValueError):
            raise RuntimeError(f"Function {name} returned an invalid gradient at index {index} - got {list(g.shape)} "
                               f"but expected shape compatible with {shape}") from None
    if g.dtype is not dtype:
        g = _ops.to_dtype(g, dtype)
    return g


# Note [Python nodes at exit] (csrc/python/autograd_bindings.cpp): drop the closures that live
# graphs hold, so that the module globals they reach are freed at interpreter exit.
atexit.register(_C._release_python_functions)
atexit.register(_C._release_python_hooks)  # tensor hooks, likewise (csrc/python/hook_bindings.cpp)
