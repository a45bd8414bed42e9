"""count_nonzero and bincount: how many elements are nonzero, and how many (or how much weight) fall on each
non-negative integer."""
from vibetensor import _C
from vibetensor import _dtype
from vibetensor._functional import _dims

Tensor = _C.Tensor
_ops = _C._ops


def count_nonzero(input, dim=None):
    """The number of nonzero elements (nan counts) over dim (an int or a tuple; all dims by default), as int64."""
    if not isinstance(input, Tensor):
        raise TypeError(f"count_nonzero(): argument 'input' must be Tensor, not {type(input).__name__}")
    nonzero = input if input.dtype is _dtype.bool else _ops.ne(input, 0)
    return _ops.sum(nonzero, _dims(dim), False, _dtype.int64)
