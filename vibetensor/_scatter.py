"""scatter / scatter_: values written at the positions index names along dim, composed of scatter_add.

Note [scatter from scatter_add]
scatter_add of ones into zeros marks the positions index names; scatter_add of src into zeros gives
their values; where() takes them there and self elsewhere. Autograd flows as torch defines scatter's:
self's gradient is zero where written, src's is the gradient gathered at index. torch leaves the value of a
position that index names more than once unspecified (one of the writes); here it is their sum.
"""
import numbers

from vibetensor import _C
from vibetensor import _dtype

_ops = _C._ops
Tensor = _C.Tensor


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """scatter(input, dim, index, src) or scatter(input, dim, index, value); reduce='add' is scatter_add."""
    if src is None and value is None:
        raise TypeError("scatter(): expected a src tensor or a value")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src  # scatter(input, dim, index, 2.0): the value overload
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
        if reduce == "multiply":
            raise NotImplementedError("scatter(): reduce='multiply' is not supported by vibetensor (reduce='add' is)")
        if src is None:
            src = _ops.full(list(index.shape), value, input.dtype, input.device)
        return _ops.scatter_add(input, dim, index, _fit(src, index, dim))
    if src is not None and src.dtype is not input.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype, got {input.dtype} and {src.dtype}")
    counts_dtype = _dtype.float32 if input.dtype is _dtype.bool else input.dtype
    ones = _ops.full(list(index.shape), 1, counts_dtype, input.device)
    written = _ops.gt(_ops.scatter_add(_ops.full(list(input.shape), 0, counts_dtype, input.device), dim, index, ones), 0)
    if src is None:
        if isinstance(value, Tensor):
            value = value.item()
        if not isinstance(value, numbers.Number):
            raise TypeError(f"scatter(): value must be a number, got {type(value).__name__}")
        return _ops.masked_fill(input, written, value)
    values = _ops.scatter_add(_ops.full(list(input.shape), 0, input.dtype, input.device), dim, index, _fit(src, index, dim))
    return _ops.where(written, values, input)


def _fit(src, index, dim):
    """src cut to index's shape (torch reads only that part of a larger src)."""
    if src.ndim != index.ndim:
        raise RuntimeError(f"scatter(): Index tensor must have the same number of dimensions as src tensor, got "
                           f"{index.ndim} and {src.ndim}")
    for d, (n_src, n_idx) in enumerate(zip(src.shape, index.shape)):
        if n_idx > n_src:
            raise RuntimeError(f"scatter(): Expected index {tuple(index.shape)} to be smaller than src "
                               f"{tuple(src.shape)} apart from dimension {dim}")
        if n_idx < n_src:
            src = _ops.narrow(src, d, 0, n_idx)
    return src
