"""Argument checks the norms share, with torch's messages: a floating input, a dtype= that does not narrow it,
and dims wrapped into range."""
import operator

from vibetensor import _C
from vibetensor import _dtype

# Half types are reduced in float32 (torch's CPU kernels accumulate them in float: a float16 sum of squares
# overflows from 256 up) and the result is rounded back.
_REDUCED_IN_FLOAT32 = (_dtype.float16, _dtype.bfloat16)


def floating_input(fn, x, dtype):
    """x (a floating tensor) converted to dtype= when given (a floating dtype that holds x's values)."""
    if not isinstance(x, _C.Tensor):
        raise TypeError(f"{fn}: expected a Tensor as input, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{fn}: Expected a floating point or complex tensor as input. Got {x.dtype}")
    if dtype is None:
        return x
    if not isinstance(dtype, _C.dtype) or not dtype.is_floating_point:
        raise RuntimeError(f"{fn}: dtype should be floating point or complex, but got {dtype}")
    if _C.promote_types(x.dtype, dtype) != dtype:
        raise RuntimeError(f"{fn}: the dtype of the input ({x.dtype}) should be convertible without narrowing to the "
                           f"specified dtype ({dtype})")
    return x.to(dtype)


def compute_dtype_input(x):
    """x in the dtype its norm is computed in (float32 for half types)."""
    return x.to(_dtype.float32) if x.dtype in _REDUCED_IN_FLOAT32 else x


def wrap_dim(fn, dim, ndim):
    """dim (an int, negative from the end) as an index in [0, ndim)."""
    dim = operator.index(dim)
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not low <= dim <= high:
        raise IndexError(f"{fn}: Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})")
    return dim % ndim if ndim else 0
