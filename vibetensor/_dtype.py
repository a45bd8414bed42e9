"""dtypes: the _C.dtype enum made to read like torch's (vt.float32, dtype.is_floating_point, ...)."""
import numpy as np

from vibetensor import _C

dtype = _C.dtype

float32 = dtype.float32
float64 = dtype.float64
float16 = dtype.float16
bfloat16 = dtype.bfloat16
int64 = dtype.int64
int32 = dtype.int32
bool = dtype.bool  # noqa: A001 (the public name, as torch.bool)

# The enum prints as "vibetensor.float32", the way torch prints "torch.float32".
dtype.__repr__ = lambda self: f"vibetensor.{self.name}"
dtype.__str__ = dtype.__repr__
dtype.is_floating_point = property(lambda self: _C._dtype_is_floating(self))
dtype.itemsize = property(lambda self: _C._dtype_itemsize(self))
dtype.is_signed = property(lambda self: self is not bool)
dtype.is_complex = property(lambda self: False)


# numpy has no bfloat16: bfloat16 tensors convert through float32.
_TO_NUMPY = {
    float32: np.dtype(np.float32),
    float64: np.dtype(np.float64),
    float16: np.dtype(np.float16),
    int64: np.dtype(np.int64),
    int32: np.dtype(np.int32),
    bool: np.dtype(np.bool_),
}
_FROM_NUMPY = {v: k for k, v in _TO_NUMPY.items()}


def get_default_dtype():
    """The dtype of tensors made from Python floats and of factories given no dtype (Note [Default dtype] in
    csrc/core/dtype.h): float32 unless set_default_dtype chose another."""
    return _C._get_default_dtype()


def set_default_dtype(d):
    """torch.set_default_dtype: the floating dtype Python floats, factories, integer true division and the
    like give from now on, in every thread."""
    if not isinstance(d, dtype):
        raise TypeError(f"set_default_dtype: expected a vibetensor dtype, got {type(d).__name__}")
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _C._set_default_dtype(d)


def to_numpy_dtype(d):
    if d not in _TO_NUMPY:
        # torch's wording ("ScalarType BFloat16"), then what to do about it.
        raise TypeError(f"Got unsupported ScalarType BFloat16 ({d}): numpy has no bfloat16; convert with .float() "
                        "first")
    return _TO_NUMPY[d]


def from_numpy_dtype(npd):
    npd = np.dtype(npd)
    if npd not in _FROM_NUMPY:
        names = ", ".join(str(k) for k in _FROM_NUMPY)
        raise TypeError(f"can't convert np.ndarray of type numpy.{npd}. The only supported types are: {names}.")
    return _FROM_NUMPY[npd]


def check_dtype(d, what="dtype"):
    """Returns d when it is a vibetensor dtype; a TypeError naming what was given otherwise."""
    if not isinstance(d, dtype):
        valid = ", ".join(f"vibetensor.{m.name}" for m in dtype)
        raise TypeError(f"{what} must be a vibetensor dtype (one of {valid}), got {d!r} ({type(d).__name__})")
    return d
