"""cdist and dist: p-norm distances between the rows of two batches of matrices, and between two tensors.

Note [cdist's two ways]
As torch: for p = 2 with more than 25 rows on a side (compute_mode "use_mm_for_euclid_dist_if_necessary"),
or always under "use_mm_for_euclid_dist", the squared distance is |x|^2 + |y|^2 - 2 x.y from one matmul,
clamped to 1e-30 and square-rooted (fast, less exact for near points); otherwise the differences of every
pair of rows are formed, [..., P, R, M]. There the gradient follows torch's _cdist_backward: 0 where a
distance is 0 (the norm's slope there is 0 / 0), and for p = inf every coordinate that attains the maximum
gets the whole gradient (amax would share it out).
"""
import math
import numbers

from vibetensor import _C
from vibetensor._functional import broadcast_shapes
from vibetensor._sign import sign
from vibetensor.linalg._vector_norm import vector_norm

Tensor = _C.Tensor
_ops = _C._ops

_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def _euclidean_by_matmul(x1, x2):
    """torch's _euclidean_dist: one matmul of [-2 x1, |x1|^2, 1] with [x2, 1, |x2|^2]."""
    n1 = _ops.sum(_ops.mul(x1, x1), [-1], True, None)
    n2 = _ops.sum(_ops.mul(x2, x2), [-1], True, None)
    left = _ops.cat([_ops.mul(x1, -2), n1, _ops.full(list(n1.shape), 1, n1.dtype, n1.device)], -1)
    right = _ops.cat([x2, _ops.full(list(n2.shape), 1, n2.dtype, n2.device), n2], -1)
    return _ops.sqrt(_ops.clamp(_ops.matmul(left, _ops.transpose(right, -1, -2)), 1e-30, None))


def _nonzero(diff):
    """1 where diff is nonzero, else 0, in diff's dtype, with gradient 0 (torch's p = 0 norms have one)."""
    return _ops.abs(sign(diff))


def _pairwise(x1, x2, p):
    diff = _ops.sub(_ops.unsqueeze(x1, -2), _ops.unsqueeze(x2, -3), 1)  # [..., P, R, M]
    if p == 0:
        return _ops.sum(_nonzero(diff), [-1], False, None)
    if p == math.inf:
        a = _ops.abs(diff)
        top = _ops.amax(a, [-1], True).detach()
        # the maximum's value, with the whole gradient on every coordinate that attains it
        attained = _ops.to_dtype(_ops.eq(a, top), a.dtype)
        return _ops.add(_ops.squeeze(top, [-1]), _ops.sum(_ops.mul(_ops.sub(a, a.detach(), 1), attained), [-1],
                                                          False, None), 1)
    return vector_norm(diff, p, -1)  # torch's gradients at zero distances (Note [Norm gradients at zero])


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 [..., P, M] and each row of x2 [..., R, M]: [..., P, R]
    (batch dims broadcast; Note [cdist's two ways])."""
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"cdist(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if not x1.dtype.is_floating_point or not x2.dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}, X2 got: {x2.dtype}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"cdist: X1 and X2 must have the same dtype, got {x1.dtype} and {x2.dtype}")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p >= 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p!r}")
    if compute_mode not in _MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode (expected one of {', '.join(_MODES)})")
    batch = list(broadcast_shapes(x1.shape[:-2], x2.shape[:-2]))
    x1 = _ops.expand(x1, batch + list(x1.shape[-2:]))
    x2 = _ops.expand(x2, batch + list(x2.shape[-2:]))
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    by_matmul = compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == "use_mm_for_euclid_dist_if_necessary" and (rows1 > 25 or rows2 > 25))
    if p == 2 and by_matmul:
        return _euclidean_by_matmul(x1, x2)
    return _pairwise(x1, x2, p)


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast)."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"dist(): argument '{name}' must be Tensor, not {type(t).__name__}")
    diff = _ops.sub(input, other, 1)
    # vector_norm, not sqrt(sum(d^2)): its gradient where input == other is 0, as torch's, not nan
    return _ops.sum(_nonzero(diff), None, False, None) if p == 0 else vector_norm(diff, p)
