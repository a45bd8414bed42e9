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
        self._input_ids = frozenset()  # the ids of apply's tensor arguments, while forward runs
        self._saved_originals = ()

    def save_for_backward(self, *tensors):
        """Saves tensors (or None) for backward. The Function's own inputs are kept as they are, with
        their history, so that a backward run under create_graph differentiates through them (Note [Custom
        Function double backward]); every other tensor is stored as a detached alias sharing memory (and the
        version counter): the node then holds no reference back to the graph, so saving an output makes no
        reference cycle through C++ that Python's GC could not collect."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is not a Tensor "
                                f"({type(t).__name__}); store other values as ctx attributes")
        self._saved = tuple(None if t is None else t if id(t) in self._input_ids else t.detach() for t in tensors)
        self._saved_originals = tensors  # until apply has compared them with the outputs
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
        input_ids = ctx._input_ids = frozenset(id(a) for a in args if isinstance(a, Tensor))
        try:
            with no_grad():
                outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            ctx._input_ids = frozenset()
        is_tuple = isinstance(outputs, tuple)
        outs = list(outputs) if is_tuple else [outputs]
        saves_output = any(t is o and id(t) not in input_ids for t in ctx._saved_originals for o in outs
                           if t is not None)
        ctx._saved_originals = ()
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
        once = getattr(cls.backward, "_vt_once_differentiable", False)
        # why a second backward through this node must raise (None: it may run)
        refusal = ("its backward is once_differentiable: it ran without a graph" if once else
                   "its backward uses a saved output, which is saved without history; save the inputs and "
                   "recompute the output in backward" if saves_output else None)
        # A saved output's term would be dropped even where the incoming gradient has no history (torch keeps
        # it): the refusing node hangs on the inputs too. The inputs do not own this node: no cycle.
        refusal_inputs = [a for a in tensor_inputs if a.requires_grad] if refusal and not once else []

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
            if create_graph and refusal is None:  # torch's default: the backward's ops record their own graph
                result = cls.backward(ctx, *full)
            else:
                with no_grad():
                    result = cls.backward(ctx, *full)
            result = result if isinstance(result, tuple) else (result,)
            if len(result) < n_args or any(g is not None for g in result[n_args:]):
                raise RuntimeError(f"function {name} returned an incorrect number of gradients (expected {n_args}, "
                                   f"got {len(result)})")
            checked = tuple(_checked_grad(name, i, result[i], shape, dtype, requires_grad)
                            for i, shape, dtype, requires_grad in in_metas)
            if create_graph and refusal:
                return _refuse_second_backward(name, refusal, checked, list(grads) + refusal_inputs)
            return checked

        if diff:
            _C._record_function(backward_fn, name, tensor_inputs, [outs[i] for i in diff])
        return tuple(outs) if is_tuple else outs[0]


# Note [Custom Function double backward]
# As in torch: under create_graph a custom Function's backward runs with grad mode on, so its ops record
# the graph a second backward differentiates. That graph reaches the Function's inputs only through
# what backward uses with history: the incoming gradients, and the saved tensors that are the Function's
# own inputs (save_for_backward keeps those as they are). A tensor computed in forward runs under no_grad
# and is saved detached, so a backward that needs a second derivative through it must recompute it from
# the inputs (the composed convolution recomputes its padded input: nn/_conv.py). A backward decorated
# with once_differentiable runs under no_grad, and its gradients get one node instead, tied to the
# incoming gradients, that raises when a second backward reaches it: a clear error where a silent zero
# or "does not require grad" would follow. So does a backward that uses a saved output: torch keeps an
# output's history through a weak reference to its node, vibetensor saves it detached (a strong one
# would be a cycle through C++), and differentiating without that history would silently drop a term.
# Outside create_graph every backward runs under no_grad.
def once_differentiable(backward):
    """Marks a Function's backward as not differentiable (torch.autograd.function.once_differentiable): it
    runs under no_grad, and a second backward through its gradients raises, naming the Function."""
    backward._vt_once_differentiable = True
    return backward


def _refuse_second_backward(name, why, grads_out, grads_in):
    sources = [g for g in grads_in if isinstance(g, Tensor) and g.requires_grad]
    outs = [g for g in grads_out if g is not None]
    if not sources or not outs:
        return grads_out

    def refuse(*_):
        raise NotImplementedError(f"{name}: differentiating through this custom Function's backward is not "
                                  f"supported (create_graph=True needs its second derivative; {why})")

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
