"""tril_indices and triu_indices: the (row, column) coordinates of a row x col matrix's lower or upper triangle,
row by row, as a 2 x N tensor."""
import numbers

import numpy as np

from vibetensor import _C
from vibetensor import _dtype
from vibetensor._factories import tensor

_ops = _C._ops


def _indices(fn, row, col, offset, dtype, device, lower):
    for name, v in (("row", row), ("col", col), ("offset", offset)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(v).__name__}")
    for name, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{fn}(): {name} must be non-negative, got {v}")
    dtype = _dtype.int64 if dtype is None else _dtype.check_dtype(dtype)
    if dtype not in (_dtype.int64, _dtype.int32):
        raise TypeError(f"{fn}(): dtype must be vibetensor.int64 or vibetensor.int32, got {dtype}")
    # numpy's triangle indices are row-major too; a factory's values are made on the host anyway
    rows, cols = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return tensor(np.stack([rows, cols]).reshape(2, -1), dtype=dtype, device=device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The coordinates of the elements on and below the offset-th diagonal (torch.tril keeps those)."""
    return _indices("tril_indices", row, col, offset, dtype, device, lower=True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The coordinates of the elements on and above the offset-th diagonal (torch.triu keeps those)."""
    return _indices("triu_indices", row, col, offset, dtype, device, lower=False)
