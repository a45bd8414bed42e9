"""finfo and iinfo: the numeric limits of the floating and integer dtypes, with torch's attributes."""
import numpy as np

from vibetensor import _dtype

# (bits, eps, max, smallest_normal, resolution); bfloat16 is not numpy's, so every row is written out.
_FLOATS = {
    _dtype.float32: (32, float(np.finfo(np.float32).eps), float(np.finfo(np.float32).max),
                     float(np.finfo(np.float32).smallest_normal), 1e-06),
    _dtype.float64: (64, float(np.finfo(np.float64).eps), float(np.finfo(np.float64).max),
                     float(np.finfo(np.float64).smallest_normal), 1e-15),
    _dtype.float16: (16, float(np.finfo(np.float16).eps), float(np.finfo(np.float16).max),
                     float(np.finfo(np.float16).smallest_normal), 0.001),
    _dtype.bfloat16: (16, 0.0078125, 3.3895313892515355e+38, 1.1754943508222875e-38, 0.01),
}
_INTS = {_dtype.int32: 32, _dtype.int64: 64}


class finfo:  # noqa: N801 (torch's name)
    """finfo(dtype=None): bits, eps, max, min, tiny (= smallest_normal), resolution and dtype (its name)."""

    def __init__(self, type=None):  # noqa: A002 (torch's argument name)
        d = _dtype.get_default_dtype() if type is None else type
        if d not in _FLOATS:
            raise TypeError(f"torch.finfo() requires a floating point input type, got {d}. Use torch.iinfo to "
                            "handle 'torch.finfo'")
        self.bits, self.eps, self.max, self.smallest_normal, self.resolution = _FLOATS[d]
        self.min = -self.max
        self.tiny = self.smallest_normal
        self.dtype = d.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801
    """iinfo(dtype): bits, max, min and dtype (its name)."""

    def __init__(self, type):  # noqa: A002
        if type not in _INTS:
            raise TypeError(f"torch.iinfo() requires an integer input type, got {type}. Use torch.finfo to handle "
                            "'torch.iinfo'")
        self.bits = _INTS[type]
        self.max = 2 ** (self.bits - 1) - 1
        self.min = -(2 ** (self.bits - 1))
        self.dtype = type.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
