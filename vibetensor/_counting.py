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


def bincount(input, weights=None, minlength=0):
    """out[v] = the number of times v occurs in the 1-D non-negative integer input (with weights: the sum of
    their weights), for v in 0 .. max(input.max() + 1, minlength) - 1. Weights of float32 give float32, others
    float64, as torch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bincount(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dtype not in (_dtype.int64, _dtype.int32) or input.ndim != 1:
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got a {input.ndim}-D "
                           f"{input.dtype} tensor")
    if isinstance(minlength, bool) or not isinstance(minlength, int):
        raise TypeError(f"bincount(): argument 'minlength' must be int, not {type(minlength).__name__}")
    if minlength < 0:
        raise RuntimeError(f"minlength should be >= 0, got {minlength}")
    if weights is not None:
        if not isinstance(weights, Tensor):
            raise TypeError(f"bincount(): argument 'weights' must be Tensor, not {type(weights).__name__}")
        if weights.ndim != 1 or weights.shape[0] != input.shape[0]:
            raise RuntimeError(f"weights should be 1-d and have the same length as input, got weights of shape "
                               f"{list(weights.shape)} for input of shape {list(input.shape)}")
    length = minlength
    if input.numel():
        # the output's length needs the values on the host, as torch's does
        low, high = _ops.amin(input, None, False).item(), _ops.amax(input, None, False).item()
        if low < 0:
            raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got the value {low}")
        length = max(length, high + 1)
    index = input if input.dtype is _dtype.int64 else _ops.to_dtype(input, _dtype.int64)
    if weights is None:
        return _ops.scatter_add(_ops.full([length], 0, _dtype.int64, input.device), 0, index,
                                _ops.full([input.shape[0]], 1, _dtype.int64, input.device))
    dtype = _dtype.float32 if weights.dtype is _dtype.float32 else _dtype.float64
    w = weights if weights.dtype is dtype else _ops.to_dtype(weights, dtype)
    return _ops.scatter_add(_ops.full([length], 0, dtype, input.device), 0, index, w)
