"""Cumulative ops along a dim: cumprod, cummax, cummin, logcumsumexp (cumsum is an op of its own).

Note [Scans from ops]
Each is a scan out[i] = out[i - 1] (+) x[i] of an associative (+), computed in log2(n) steps of whole-tensor
ops (Hillis and Steele): at step k every element combines with the one 2^k places before it. Combining with
ops keeps every rule of the op: cumprod by mul is exact about zeros and signs, where exp(cumsum(log x)) is
nan for x <= 0, and its gradient is the product rule step by step, right where an element is 0 (the quotient
out / x is not); logcumsumexp by logaddexp neither overflows nor underflows, where log(cumsum(exp x)) does
both. cummax and cummin scan (value, index) pairs, then gather the values at the indices, so the gradient
goes to the element each maximum came from.
"""
from vibetensor import _C
from vibetensor import _dtype
from vibetensor import return_types
from vibetensor._functional import _wrap_dim, isnan
from vibetensor._log1p_expm1 import logaddexp

Tensor = _C.Tensor
_ops = _C._ops


def _scan(parts, dim, combine):
    """Inclusive scans of the tensors `parts` (equal shapes) along dim under combine(earlier, later) ->
    parts (Note [Scans from ops])."""
    n = parts[0].shape[dim]
    shift = 1
    while shift < n:
        earlier = [_ops.narrow(p, dim, 0, n - shift) for p in parts]
        later = [_ops.narrow(p, dim, shift, n - shift) for p in parts]
        combined = combine(earlier, later)
        parts = [_ops.cat([_ops.narrow(p, dim, 0, shift), c], dim) for p, c in zip(parts, combined)]
        shift *= 2
    return parts


def _input(fn, input, dim):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    d = _wrap_dim(dim, input.ndim)
    return (_ops.reshape(input, [1]) if input.ndim == 0 else input), d


def cumprod(input, dim, *, dtype=None):
    """out[i] = input[0] * ... * input[i] along dim; integers and bools give int64 unless dtype is given."""
    x, d = _input("cumprod", input, dim)
    if dtype is not None:
        x = _ops.to_dtype(x, _dtype.check_dtype(dtype))
    elif not x.dtype.is_floating_point:
        x = _ops.to_dtype(x, _dtype.int64)
    out, = _scan([x], d, lambda a, b: [_ops.mul(a[0], b[0])])
    return _ops.reshape(out, []) if input.ndim == 0 else out


def _cumulative_extreme(fn, input, dim, keeps_up):
    """(values, indices) of the running extreme; keeps_up(later, earlier): the later value takes over."""
    x, d = _input(fn, input, dim)
    shape = [1] * x.ndim
    shape[d] = x.shape[d]
    index = _ops.expand(_ops.reshape(_ops.arange(0, x.shape[d], 1, _dtype.int64, x.device), shape), list(x.shape))

    def combine(earlier, later):
        (v0, i0), (v1, i1) = earlier, later
        take = keeps_up(v1, v0)
        if x.dtype.is_floating_point:  # nan wins, and the latest nan (torch's rule)
            take = _ops.logical_or(isnan(v1), _ops.logical_and(take, _ops.logical_not(isnan(v0))))
        return [_ops.where(take, v1, v0), _ops.where(take, i1, i0)]

    _, indices = _scan([x.detach(), index], d, combine)  # detached: the indices need no graph
    values = _ops.gather(x, d, indices)  # the gradient goes to the element each value came from
    if input.ndim == 0:
        values, indices = _ops.reshape(values, []), _ops.reshape(indices, [])
    return values, indices


def cummax(input, dim):
    """The running maximum along dim and the index it was found at (the latest of equal maxima; nan wins)."""
    return return_types.cummax(*_cumulative_extreme("cummax", input, dim, _ops.ge))


def cummin(input, dim):
    """The running minimum along dim and the index it was found at (the latest of equal minima; nan wins)."""
    return return_types.cummin(*_cumulative_extreme("cummin", input, dim, _ops.le))


def logcumsumexp(input, dim):
    """out[i] = log(exp(input[0]) + ... + exp(input[i])) along dim, without overflow or underflow."""
    x, d = _input("logcumsumexp", input, dim)
    if not x.dtype.is_floating_point:
        raise TypeError(f"logcumsumexp(): expected a floating point tensor, got {x.dtype}")
    out, = _scan([x], d, lambda a, b: [logaddexp(a[0], b[0])])
    return _ops.reshape(out, []) if input.ndim == 0 else out
