"""linspace and logspace: `steps` evenly spaced values from start to end (logspace: base to those powers).

As torch's kernels: step = (end - start) / (steps - 1) in the result's dtype (in double for integer results),
the first half counted up from start and the second half down from end, so both ends are exact; integer
results are the values rounded toward zero."""
import numbers

from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _factories

Tensor = _C.Tensor
_ops = _C._ops


def _endpoint(value, name, fn):
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"{fn} only supports 0-dimensional start and end tensors, but got {name} with "
                               f"{value.ndim} dimension(s).")
        return value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}(): argument '{name}' must be a number or a 0-dimensional tensor, not "
                        f"{type(value).__name__}")
    return value


def _spaced(fn, start, end, steps, dtype, device):
    """The evenly spaced values in the dtype they are computed in (that of the result, double for integers)."""
    start, end = _endpoint(start, "start", fn), _endpoint(end, "end", fn)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise TypeError(f"{fn}(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"{fn}(): number of steps must be non-negative, got {steps}")
    dtype = _dtype.get_default_dtype() if dtype is None else _dtype.check_dtype(dtype)
    if dtype is _dtype.bool:
        raise TypeError(f"{fn}(): dtype bool is not supported; expected a floating point or integer dtype")
    compute = dtype if dtype.is_floating_point else _dtype.float64
    if not dtype.is_floating_point:  # torch converts the ends to the integer dtype first
        start, end = int(start), int(end)
    index = _ops.arange(0, steps, 1, compute, device)
    if steps <= 1:
        return _ops.add(index, start, 1), dtype
    step = (end - start) / (steps - 1)
    up = _ops.add(_ops.mul(index, step), start, 1)
    down = _ops.sub(end, _ops.mul(_ops.sub(steps - 1, index, 1), step), 1)
    return _ops.where(_ops.lt(index, steps // 2), up, down), dtype


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, layout=None, out=None):
    """`steps` values from start to end, evenly spaced, both ends included."""
    if out is not None:
        raise TypeError("linspace(): out= is not supported by vibetensor; assign the result instead")
    values, dtype = _spaced("linspace", start, end, steps, dtype, device)
    return _factories._finish(values if values.dtype is dtype else _ops.to_dtype(values, dtype), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False, layout=None, out=None):
    """base ** linspace(start, end, steps): `steps` values from base^start to base^end, evenly spaced in log."""
    if out is not None:
        raise TypeError("logspace(): out= is not supported by vibetensor; assign the result instead")
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(f"logspace(): argument 'base' must be a number, not {type(base).__name__}")
    exponents, dtype = _spaced("logspace", start, end, steps, dtype, device)
    values = _ops.pow(_ops.full([], base, exponents.dtype, exponents.device), exponents)
    return _factories._finish(values if values.dtype is dtype else _ops.to_dtype(values, dtype), requires_grad)
