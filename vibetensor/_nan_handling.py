"""nan_to_num, nansum and nanmean: nan (and infinities) replaced or left out, composed with where so that the
gradient of a replaced element is 0, as torch's."""
import math

from vibetensor import _C
from vibetensor import _dtype
from vibetensor._functional import _dims, isnan
from vibetensor._type_info import finfo

Tensor = _C.Tensor
_ops = _C._ops


def _check(fn, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan -> nan, inf -> posinf, -inf -> neginf (by default the largest and lowest finite values of the dtype);
    integers and bools are returned as they are (a copy)."""
    _check("nan_to_num", input)
    if not input.dtype.is_floating_point:
        return _ops.clone(input)
    info = finfo(input.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    out = _ops.where(isnan(input), nan, input)
    out = _ops.where(_ops.eq(input, math.inf), posinf, out)
    return _ops.where(_ops.eq(input, -math.inf), neginf, out)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum of the elements that are not nan (sum's dims, keepdim and dtype)."""
    _check("nansum", input)
    x = _ops.where(isnan(input), 0, input) if input.dtype.is_floating_point else input
    return _ops.sum(x, _dims(dim), keepdim, dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the elements that are not nan (nan where all are)."""
    _check("nanmean", input)
    if not (input.dtype.is_floating_point if dtype is None else _dtype.check_dtype(dtype).is_floating_point):
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {input.dtype}")
    x = input if dtype is None else _ops.to_dtype(input, dtype)
    present = _ops.logical_not(isnan(x))
    count = _ops.sum(present, _dims(dim), keepdim, x.dtype)
    return _ops.div(_ops.sum(_ops.where(present, x, 0), _dims(dim), keepdim, None), count)
