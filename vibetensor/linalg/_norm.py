"""linalg.norm: a vector or a matrix norm, chosen as torch chooses: a matrix norm when ord is a string, or when
ord is given with two dims (or, without dim, for a 2-D input); otherwise a vector norm (ord None: the 2-norm of
the entries, which is also the Frobenius norm)."""
from vibetensor.linalg._matrix_norm import matrix_norm
from vibetensor.linalg._vector_norm import vector_norm

_FN = "linalg.norm"


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """The ord norm of A over dim (an int, or a tuple of one or two dims; None: see the module's rule)."""
    if dim is not None:
        dim = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dim) not in (1, 2):
            raise RuntimeError(f"{_FN}: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    elif ord is not None and getattr(A, "ndim", None) not in (1, 2):
        raise RuntimeError(f"{_FN}: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {getattr(A, 'ndim', '?')}D.")
    matrix = isinstance(ord, str) or (ord is not None and (len(dim) == 2 if dim is not None else A.ndim == 2))
    if matrix:
        return matrix_norm(A, ord, dim if dim is not None else (0, 1), keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
