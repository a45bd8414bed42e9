"""Norm-based distances of torch.nn.functional: normalize, cosine_similarity and pairwise_distance, over
linalg.vector_norm, whose gradient at a zero vector is zero, as torch's (sqrt and pow alone give nan there)."""
import numbers

from vibetensor import _C
from vibetensor import _functional as _F
from vibetensor.linalg._vector_norm import vector_norm

_ops = _C._ops


def _vector_norm(x, p, dim, keepdim):
    """The p-norm of x over dim (an int): linalg.vector_norm, whose gradients are torch's where the norm or an
    entry is zero (Note [Norm gradients at zero]); p = 0, a count, gives x no gradient, as torch's."""
    if not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise TypeError(f"norm: p must be a real number or inf, got {type(p).__name__}")
    return vector_norm(x, p, dim, keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along dim."""
    if out is not None:
        raise TypeError("normalize(): the out= argument is not supported by vibetensor; assign the result instead")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{str(input.dtype).rsplit('.', 1)[-1]}")
    d = _F._wrap_dim(dim, input.ndim)
    return _ops.div(input, _ops.clamp(_vector_norm(input, p, d, True), eps, None))


def _common_floating(x1, x2, fn):
    """x1 and x2 in their common dtype, which must be floating (integers and bools are converted)."""
    common = _C.promote_types(x1.dtype, x2.dtype)
    if not common.is_floating_point:
        raise RuntimeError(f"{fn}: expected common dtype to be floating point, yet common dtype is "
                           f"{str(common).rsplit('.', 1)[-1]}")
    return _ops.to_dtype(x1, common), _ops.to_dtype(x2, common)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """<x1 / max(||x1||, eps), x2 / max(||x2||, eps)> along dim, x1 and x2 broadcast together: torch's
    formulation, which keeps the result in [-1, 1] and computes no product of norms."""
    x1, x2 = _common_floating(x1, x2, "cosine_similarity")
    x1, x2 = _F.broadcast_tensors(x1, x2)
    d = _F._wrap_dim(dim, x1.ndim)

    def unit(x):
        n = _vector_norm(x, 2, d, True)
        # torch clamps the norm in place under no_grad: the value is clamped, its gradient is the norm's
        clamped = _ops.add(n, _ops.sub(_ops.clamp(n, eps, None), n, 1).detach(), 1)
        return _ops.div(x, clamped)

    return _ops.sum(_ops.mul(unit(x1), unit(x2)), [d], False, None)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim of the broadcast inputs."""
    diff = _ops.add(_ops.sub(*_F.broadcast_tensors(x1, x2), 1), eps, 1)
    return _vector_norm(diff, p, _F._wrap_dim(-1, diff.ndim), keepdim)
