"""linalg.matrix_norm: norms of the matrices over two dims: Frobenius, and the max / min absolute column
(ord 1 / -1) or row (inf / -inf) sum.

The spectral norms ('nuc', the sum of the singular values; 2 / -2, the largest / smallest) need an SVD, which
vibetensor does not have: they raise NotImplementedError rather than answer with an approximation."""
import math
import numbers

from vibetensor.linalg import _checks
from vibetensor.linalg._vector_norm import vector_norm

_FN = "linalg.matrix_norm"
_SUPPORTED = "'fro', 1, -1, inf, -inf"


def _check_ord(ord):
    if isinstance(ord, str):
        known = ord in ("fro", "nuc")
    else:
        known = isinstance(ord, numbers.Real) and not isinstance(ord, bool) and abs(ord) in (1, 2, math.inf)
    if not known:
        raise RuntimeError(f"{_FN}: Order {ord} not supported.")
    if ord == "nuc" or (not isinstance(ord, str) and abs(ord) == 2):
        raise NotImplementedError(f"{_FN}: ord={ord!r} needs the singular values of A (an SVD), which vibetensor does "
                                  f"not have yet; supported orders: {_SUPPORTED}")


def _matrix_dims(A, dim):
    """dim as two distinct dims in [0, A.ndim)."""
    if isinstance(dim, int) or len(dim) != 2:
        raise RuntimeError(f"{_FN}: dim must be a 2-tuple. Got {dim if isinstance(dim, int) else list(dim)}")
    d0, d1 = (_checks.wrap_dim(_FN, d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{_FN}: dims must be different. Got ({d0}, {d1})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The ord norm of the matrices of A over dim (two dims; the others are batch dims): 'fro' (default), 1 / -1
    (max / min over columns of the absolute column sums), inf / -inf (the same over rows)."""
    _check_ord(ord)
    if getattr(A, "ndim", 2) < 2:
        raise RuntimeError(f"{_FN}: The input tensor A must have at least 2 dimensions.")
    A = _checks.floating_input(_FN, A, dtype)
    d0, d1 = _matrix_dims(A, dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if abs(ord) == math.inf:
        d0, d1 = d1, d0  # the inf norm is the 1 norm of the transpose: sum over a row, then max over rows
    if A.shape[d1] == 0:  # no sums to take the max / min of
        if ord < 0:
            raise IndexError(f"{_FN}: the {ord} norm is a min over dim {d1}, which has size 0: it has no value")
        return vector_norm(A, 1, (d0, d1), keepdim)  # the max of sums >= 0 over nothing: 0, as torch
    sums = vector_norm(A, 1, d0, keepdim)
    if not keepdim and d0 < d1:
        d1 -= 1  # d0 is gone
    return sums.amax(d1, keepdim=keepdim) if ord > 0 else sums.amin(d1, keepdim=keepdim)
