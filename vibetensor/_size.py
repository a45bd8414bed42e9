"""vibetensor.Size: what .shape and .size() return, a tuple with torch.Size's extras.

It is a tuple (equal to the tuple of the same sizes, usable wherever one is), whose slices and sums stay
Sizes, with numel(). The C++ binding builds it directly (Note [Size objects] in
csrc/python/tensor_bindings.cpp), so .shape costs what a plain tuple cost.
"""
import operator

from vibetensor import _C


class Size(tuple):
    __slots__ = ()

    def __new__(cls, sizes=()):
        return super().__new__(cls, (operator.index(s) for s in sizes))

    def numel(self):
        """The number of elements of a tensor of this shape."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __mul__(self, times):
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__

    def __repr__(self):
        return f"vibetensor.Size({list(self)})"


_C._set_size_type(Size)
