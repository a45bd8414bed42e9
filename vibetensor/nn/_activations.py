"""Activation functions of torch.nn.functional beyond relu / gelu / silu: leaky_relu, elu, softplus, mish,
hardtanh, relu6, hardswish, hardsigmoid, logsigmoid, glu and prelu, with torch's values at the edges
(Note [Activation edges]) and their in-place forms."""
from vibetensor import _C
from vibetensor import _functional as _F
from vibetensor._log1p_expm1 import _expm1_value, _log1p_value
from vibetensor.autograd.function import Function

_ops = _C._ops

# Note [Activation edges]
# - Gradients at the kinks are torch's: leaky_relu and prelu take the negative slope at 0; hardtanh (so
#   relu6), hardsigmoid and hardswish pass nothing at their bounds (torch's backward tests strictly inside);
#   the compositions below choose the branch with where() so that autograd gives exactly that.
# - softplus, logsigmoid and elu need log1p / expm1, which are no ops of their own: their forward runs
#   Goldberg's and Kahan's corrections (Note [log1p and expm1 from log and exp]: accurate to a few ulps where
#   1 + x loses x's digits) and their backward is written out, as torch's (softplus: e / (e + 1), e = exp(beta * x), below
#   the threshold, 1 above it; logsigmoid: sigmoid(-x); elu: alpha * exp(x) for x <= 0). The backward uses
#   the input, so a second backward differentiates through it.
# - softplus keeps torch's threshold exactly: beta * x > threshold returns x itself, anything else
#   log1p(exp(beta * x)) / beta, which overflows to inf (gradient nan) past exp's range when the threshold
#   lets it, as torch's does.


def _floating(input, fn):
    if not input.dtype.is_floating_point:
        raise TypeError(f"{fn}: expected a floating tensor, got {str(input.dtype).rsplit('.', 1)[-1]}")


def _in_place(fn, input, inplace, *args):
    """fn(input, *args), written into input when inplace (returned). Under autograd fn runs on a copy: its
    backward saves what it reads, which the write would otherwise change under it."""
    if not inplace:
        return fn(input, *args)
    source = _ops.clone(input) if input.requires_grad and _C.is_grad_enabled() else input
    _ops.copy_(input, fn(source, *args), False)
    return input


class _Softplus(Function):
    @staticmethod
    def forward(ctx, input, beta, threshold):
        ctx.save_for_backward(input)
        ctx.beta, ctx.threshold = beta, threshold
        z = _ops.mul(input, beta)
        soft = _ops.div(_log1p_value(_ops.exp(z)), beta)
        return _ops.where(_ops.gt(z, threshold), input, soft)

    @staticmethod
    def backward(ctx, grad):
        (input,) = ctx.saved_tensors
        z = _ops.mul(input, ctx.beta)
        e = _ops.exp(z)  # torch's e / (e + 1), not sigmoid(z): past exp's range it is nan, as torch's
        below = _ops.mul(grad, _ops.div(e, _ops.add(e, 1.0, 1)))
        return _ops.where(_ops.gt(z, ctx.threshold), grad, below), None, None


class _LogSigmoid(Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        # min(x, 0) - log1p(exp(-|x|)): no exp overflows, and large |x| keep their digits
        tail = _log1p_value(_ops.exp(_ops.neg(_ops.abs(input))))
        return _ops.sub(_ops.clamp(input, None, 0.0), tail, 1)

    @staticmethod
    def backward(ctx, grad):
        (input,) = ctx.saved_tensors
        return _ops.mul(grad, _ops.sigmoid(_ops.neg(input)))


class _ELU(Function):
    @staticmethod
    def forward(ctx, input, alpha):
        ctx.save_for_backward(input)
        ctx.alpha = alpha
        negative = _ops.mul(_expm1_value(_ops.clamp(input, None, 0.0)), alpha)
        return _ops.where(_ops.gt(input, 0.0), input, negative)

    @staticmethod
    def backward(ctx, grad):
        (input,) = ctx.saved_tensors
        negative = _ops.mul(grad, _ops.mul(_ops.exp(input), ctx.alpha))
        return _ops.where(_ops.gt(input, 0.0), grad, negative), None


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _floating(input, "leaky_relu")
    return _in_place(lambda x: _ops.where(_ops.gt(x, 0.0), x, _ops.mul(x, negative_slope)), input, inplace)


def elu(input, alpha=1.0, inplace=False):
    _floating(input, "elu")
    return _in_place(lambda x: _ELU.apply(x, float(alpha)), input, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (Note [Activation edges])."""
    _floating(input, "softplus")
    return _Softplus.apply(input, float(beta), float(threshold))


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    _floating(input, "mish")
    return _in_place(lambda x: _ops.mul(x, _ops.tanh(_Softplus.apply(x, 1.0, 20.0))), input, inplace)


def _hardtanh(x, min_val, max_val):
    if not x.dtype.is_floating_point:  # integers keep their dtype (and have no gradient to shape)
        return _ops.clamp(x, min_val, max_val)
    # where() rather than clamp: clamp passes the gradient at its bounds, torch's hardtanh does not
    inside = _ops.where(_ops.ge(x, max_val), max_val, x)
    return _ops.where(_ops.le(x, min_val), min_val, inside)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _in_place(_hardtanh, input, inplace, min_val, max_val)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def _hardswish(x):
    middle = _ops.div(_ops.mul(x, _ops.add(x, 3.0, 1)), 6.0)
    return _ops.where(_ops.le(x, -3.0), 0.0, _ops.where(_ops.ge(x, 3.0), x, middle))


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    _floating(input, "hardswish")
    return _in_place(_hardswish, input, inplace)


def _hardsigmoid(x):
    middle = _ops.div(_ops.add(x, 3.0, 1), 6.0)
    return _ops.where(_ops.le(x, -3.0), 0.0, _ops.where(_ops.ge(x, 3.0), 1.0, middle))


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    _floating(input, "hardsigmoid")
    return _in_place(_hardsigmoid, input, inplace)


def logsigmoid(input):
    """log(sigmoid(x)), finite and accurate for large |x|."""
    _floating(input, "logsigmoid")
    return _LogSigmoid.apply(input)


def glu(input, dim=-1):
    """a * sigmoid(b), a and b the halves of input along dim."""
    _floating(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _F._wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = _ops.narrow(input, d, 0, n // 2), _ops.narrow(input, d, n // 2, n // 2)
    return _ops.mul(a, _ops.sigmoid(b))


def prelu(input, weight):
    """x where x > 0, else weight * x; weight has one value, or one per channel (input's dim 1)."""
    _floating(input, "prelu")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    if input.ndim == 0 and weight.numel() != 1:
        raise RuntimeError("Not allow zero-dim input tensor.")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{weight.numel()} and channel size = {channels}.")
    if input.ndim >= 2:  # one slope per channel, broadcast over the dims after it
        weight = _ops.reshape(weight, [-1] + [1] * (input.ndim - 2))
    elif weight.ndim:
        weight = _ops.reshape(weight, [])
    return _ops.where(_ops.gt(input, 0.0), input, _ops.mul(weight, input))
