"""Elementwise functions whose value is computed one way and whose derivative is a formula of their inputs.

Why: functions with no kernel of their own (erf, log1p, atan2, ...) are computed from ops by range reductions,
branches on `where` and polynomials. Their values are accurate, but differentiating that composition is not: a
branch that is not taken still sends 0 * inf = nan back, and a polynomial fit's slope is less exact than its
value. So the value runs under no_grad and backward applies the function's own derivative, with ops on the saved
inputs: a create_graph backward differentiates that formula (Note [Custom Function double backward]).
"""
from vibetensor import _C
from vibetensor import _dtype
from vibetensor._functional import broadcast_shapes
from vibetensor.autograd.function import Function

Tensor = _C.Tensor
_ops = _C._ops


def pointwise(name, value, *derivatives):
    """The function f(*inputs) = value(*inputs) of len(derivatives) tensors, where derivatives[i](grad, *inputs)
    is the gradient of input i (broadcast inputs get it summed to their shape by the Function)."""
    def forward(ctx, *inputs):
        ctx.save_for_backward(*inputs)
        return value(*inputs)

    def backward(ctx, grad):
        inputs = ctx.saved_tensors
        return tuple(d(grad, *inputs) if needed else None for d, needed in zip(derivatives, ctx.needs_input_grad))

    fn = type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})

    def apply(*inputs):
        # float16 and bfloat16 compute in float32 and round once, as torch's kernels do: each op of the
        # composition would round to the narrow type otherwise
        narrow = inputs[0].dtype if inputs[0].dtype in (_dtype.float16, _dtype.bfloat16) else None
        if narrow is None:
            return fn.apply(*inputs)
        return _ops.to_dtype(fn.apply(*(_ops.to_dtype(x, _dtype.float32) for x in inputs)), narrow)
    return apply


def floating(fn, *inputs):
    """The inputs of a function that computes in floating point, as tensors of one floating dtype: torch's
    promotion, where integers and bools become the default dtype. A non-tensor is a TypeError and shapes that
    do not broadcast a RuntimeError, naming fn."""
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{fn}(): argument {i} must be a Tensor, not {type(x).__name__}")
    if len(inputs) > 1:
        try:
            broadcast_shapes(*(x.shape for x in inputs))
        except RuntimeError:
            raise RuntimeError(f"{fn}(): the shapes {', '.join(str(list(x.shape)) for x in inputs)} cannot be "
                               "broadcast together") from None
    common = inputs[0].dtype
    for x in inputs[1:]:
        common = _C.promote_types(common, x.dtype)
    if not common.is_floating_point:
        common = _dtype.get_default_dtype()
    return tuple(x if x.dtype is common else _ops.to_dtype(x, common) for x in inputs)


def float_only(fn, *inputs):
    """floating(), for functions torch does not define on integers and bools (hypot, logaddexp): those raise."""
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{fn}(): argument {i} must be a Tensor, not {type(x).__name__}")
    if not any(x.dtype.is_floating_point for x in inputs):
        raise TypeError(f"{fn}(): expected floating point tensors, got {', '.join(str(x.dtype) for x in inputs)}")
    return floating(fn, *inputs)
