"""Tensor factories with torch's signatures: tensor, zeros, ones, full, empty, arange, rand, randn,
randint and their *_like forms."""
import builtins
import numbers

import numpy as np

from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _interop
from vibetensor._generator import numpy_rng

Tensor = _C.Tensor
_ops = _C._ops


def _size(args, size, fn):
    """Sizes given as varargs (zeros(2, 3)), one sequence (zeros((2, 3))) or size=."""
    if size is not None:
        if args:
            raise TypeError(f"{fn}(): got sizes both positionally {args} and as size={size}")
        args = (size,)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for s in args:
        if isinstance(s, builtins.bool) or not isinstance(s, numbers.Integral):
            if isinstance(s, Tensor) and s.numel() == 1 and not s.dtype.is_floating_point:
                s = s.item()
            else:
                raise TypeError(f"{fn}(): size must be a tuple of ints, but got an element of type "
                                f"{type(s).__name__} ({s!r})")
        out.append(int(s))
    if any(s < 0 for s in out):
        raise RuntimeError(f"{fn}(): trying to create tensor with negative dimension {min(out)}: {out}")
    return out


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad = True
    return t


def _check_dtype(dtype):
    """The dtype of a factory result: the default dtype unless given."""
    return _dtype.get_default_dtype() if dtype is None else _dtype.check_dtype(dtype)


def _size_kw(kw, fn):
    """The size= keyword of the varargs factories (the only keyword they take besides dtype etc.)."""
    size = kw.pop("size", None)
    if kw:
        raise TypeError(f"{fn}() got an unexpected keyword argument '{next(iter(kw))}'")
    return size


def zeros(*size, dtype=None, device=None, requires_grad=False, **kw):
    return _finish(_ops.full(_size(size, _size_kw(kw, "zeros"), "zeros"), 0, _check_dtype(dtype), device), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **kw):
    return _finish(_ops.full(_size(size, _size_kw(kw, "ones"), "ones"), 1, _check_dtype(dtype), device), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kw):
    return _finish(_ops.empty(_size(size, _size_kw(kw, "empty"), "empty"), _check_dtype(dtype), device), requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """full(size, fill_value): dtype follows fill_value (bool -> bool, int -> int64, float -> the default dtype)."""
    if dtype is None:
        dtype = _scalar_dtype(fill_value)
    return _finish(_ops.full(_size((size,), None, "full"), fill_value, _dtype.check_dtype(dtype), device), requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None, **kw):
    shape, dtype = _size(size, _size_kw(kw, "rand"), "rand"), _check_dtype(dtype)
    if generator is not None:
        return _finish(_drawn(numpy_rng(generator, "rand").random(shape), dtype, device), requires_grad)
    return _finish(_ops.rand(shape, dtype, device), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None, **kw):
    shape, dtype = _size(size, _size_kw(kw, "randn"), "randn"), _check_dtype(dtype)
    if generator is not None:
        return _finish(_drawn(numpy_rng(generator, "randn").standard_normal(shape), dtype, device), requires_grad)
    return _finish(_ops.randn(shape, dtype, device), requires_grad)


def _drawn(values, dtype, device):
    """A tensor of host-drawn numpy values (a Generator's draw, see _generator.py) as dtype on device."""
    t = _ops.to_dtype(_interop.from_numpy(np.ascontiguousarray(values)), dtype or _dtype.get_default_dtype())
    return t if device is None else _ops.to_device(t, device if isinstance(device, _C.device) else
                                                   _C.device(str(device)), False)


def randint(low=0, high=None, size=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    """randint(high, size) or randint(low, high, size): integers in [low, high), int64 by default."""
    if size is None:  # randint(high, size)
        if high is None:
            raise TypeError("randint(): missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint(): missing required argument 'high'")
    if not low < high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if generator is not None:
        values = numpy_rng(generator, "randint").integers(int(low), int(high), _size((size,), None, "randint"))
        return _finish(_drawn(values, _dtype.int64 if dtype is None else _dtype.check_dtype(dtype), device),
                       requires_grad)
    return _finish(_ops.randint(int(low), int(high), _size((size,), None, "randint"),
                                _dtype.int64 if dtype is None else _dtype.check_dtype(dtype), device),
                   requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """arange(end) or arange(start, end, step=1); int64 when all of them are ints, else the default dtype."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange(): upper bound and lower bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    dtype = None if dtype is None else _dtype.check_dtype(dtype)  # None: int64 for ints, else the default dtype
    return _finish(_ops.arange(_number(start), _number(end), _number(step), dtype, device), requires_grad)


def _number(x):
    return x.item() if isinstance(x, Tensor) else x




def _scalar_dtype(v):
    if isinstance(v, builtins.bool):
        return _dtype.bool
    if isinstance(v, numbers.Integral):
        return _dtype.int64
    if isinstance(v, numbers.Real):
        return _dtype.get_default_dtype()
    if isinstance(v, Tensor):
        return v.dtype
    raise TypeError(f"fill value must be a number, got {type(v).__name__}")


def _like(input, dtype, device):
    """Size, dtype and device of a *_like result: the input's unless given."""
    return (list(input.shape), input.dtype if dtype is None else _dtype.check_dtype(dtype),
            input.device if device is None else device)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    size, dtype, device = _like(input, dtype, device)
    return _finish(_ops.full(size, 0, dtype, device), requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    size, dtype, device = _like(input, dtype, device)
    return _finish(_ops.full(size, 1, dtype, device), requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    size, dtype, device = _like(input, dtype, device)
    return _finish(_ops.full(size, fill_value, dtype, device), requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    size, dtype, device = _like(input, dtype, device)
    return _finish(_ops.empty(size, dtype, device), requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    size, dtype, device = _like(input, dtype, device)
    return _finish(_ops.rand(size, dtype, device), requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    size, dtype, device = _like(input, dtype, device)
    return _finish(_ops.randn(size, dtype, device), requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    if high is None:
        low, high = 0, low
    size, dtype, device = _like(input, dtype, device)
    return _finish(_ops.randint(int(low), int(high), size, dtype, device), requires_grad)


# --- tensor(data) ---------------------------------------------------------------------------

def _category_dtype(arr):
    """The dtype torch infers for data given as Python values that numpy read as `arr`."""
    kind = arr.dtype.kind
    if kind == "b":
        return _dtype.bool
    if kind in "iu":
        return _dtype.int64
    if kind == "f":
        return _dtype.get_default_dtype()
    raise TypeError(f"Could not infer dtype of {arr.dtype} data (expected numbers or bools, possibly nested in "
                    "lists/tuples)")


def _to_array(data):
    """numpy array of the data and the dtype torch.tensor would infer for it."""
    if isinstance(data, np.ndarray):
        return data, _dtype.from_numpy_dtype(data.dtype)
    if isinstance(data, np.generic):
        arr = np.asarray(data)
        return arr, _dtype.from_numpy_dtype(arr.dtype)
    if isinstance(data, Tensor):
        return _interop.host_values(data), data.dtype
    if isinstance(data, (builtins.bool, numbers.Number)) and not isinstance(data, numbers.Real):
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    try:
        arr = np.array(data)
    except (ValueError, OverflowError) as e:
        raise ValueError(f"tensor(): could not convert the data to a rectangular array of numbers: {e}") from None
    if arr.dtype == object:
        raise TypeError("tensor(): could not infer dtype: data must be numbers or bools nested in lists/tuples of "
                        f"equal lengths (got {type(data).__name__})")
    if arr.size == 0 and arr.dtype.kind == "f":
        return arr, _dtype.get_default_dtype()
    return arr, _category_dtype(arr)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (numbers, nested lists, numpy arrays, tensors).

    The dtype follows torch: Python floats -> the default dtype, ints -> int64, bools -> bool; numpy arrays
    and tensors keep theirs.
    """
    arr, inferred = _to_array(data)
    target = inferred if dtype is None else _dtype.check_dtype(dtype)
    via = _dtype.float32 if target is _dtype.bfloat16 else target
    arr = np.array(arr, dtype=_dtype.to_numpy_dtype(via), order="C", copy=True)
    t = _C._from_dlpack_capsule(arr.__dlpack__())
    if via is not target:
        t = _ops.to_dtype(t, target)
    if device is not None and t.device != device:
        t = _ops.to_device(t, device, False)
    return _finish(t, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Shares memory with a tensor or numpy array when no conversion is needed; copies otherwise."""
    if isinstance(data, Tensor):
        t = data
    elif isinstance(data, np.ndarray) and data.flags.writeable and all(s >= 0 for s in data.strides):
        t = _interop.from_numpy(data)
    else:
        return tensor(data, dtype=dtype, device=device)
    if dtype is not None and t.dtype is not dtype:
        t = _ops.to_dtype(t, dtype)
    if device is not None and t.device != device:
        t = _ops.to_device(t, device, False)
    return t


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return _finish(_ops.full([], s, dtype or _dtype.get_default_dtype(), device), requires_grad)
