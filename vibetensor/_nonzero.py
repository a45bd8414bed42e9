"""nonzero and argwhere: the coordinates of the nonzero elements, in row-major order.

Their number decides the result's shape, so it is read back to the host (as torch does). The flat
positions are a masked_select of an arange; each coordinate is a floor division and a remainder of them.
"""
from vibetensor import _C
from vibetensor import _dtype

_ops = _C._ops


def nonzero(input, *, as_tuple=False):
    """[n, ndim] int64 coordinates of the n nonzero elements; as_tuple=True: one 1-D tensor per dim."""
    mask = input if input.dtype is _dtype.bool else _ops.ne(input, 0)
    flat = _ops.masked_select(_ops.arange(0, input.numel(), 1, _dtype.int64, input.device), _ops.flatten(mask, 0, -1))
    shape = list(input.shape)
    if not shape:  # a 0-d tensor: one coordinate-less row per nonzero (torch: shape [n, 0]; as_tuple: (flat,))
        return (_ops.full([flat.shape[0]], 0, _dtype.int64, input.device),) if as_tuple \
            else _ops.empty([flat.shape[0], 0], _dtype.int64, input.device)
    columns, stride = [], 1
    for n in reversed(shape):
        columns.append(_ops.remainder(_ops.div_rounded(flat, stride, "floor"), n) if n else flat)
        stride *= n
    columns.reverse()
    return tuple(columns) if as_tuple else _ops.stack(columns, 1)


def argwhere(input):
    return nonzero(input)
