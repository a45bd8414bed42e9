"""tensor_split and numpy's hsplit, vsplit, dsplit: views of a tensor cut along a dim into n near-equal parts
or at given indices."""
import builtins
import numbers

from vibetensor import _C
from vibetensor import _dtype
from vibetensor._functional import _wrap_dim

Tensor = _C.Tensor
_ops = _C._ops


def _pieces(input, d, cuts):
    """The views between consecutive cuts, indices along d taken as Python slice bounds (negative ones from the
    end, clamped to the dim; a cut before the previous one gives an empty piece)."""
    size, out, start = input.shape[d], [], 0
    for end in cuts + [size]:
        end = builtins.min(builtins.max(end + size if end < 0 else end, 0), size)
        out.append(_ops.narrow(input, d, start, builtins.max(end - start, 0)))
        start = end
    return tuple(out)


def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    """Views of input along dim: `sections` parts whose sizes differ by at most one (the first ones larger), or
    the parts between the given indices."""
    if not isinstance(input, Tensor):
        raise TypeError(f"tensor_split(): argument 'input' must be Tensor, not {type(input).__name__}")
    given = [a for a in (indices_or_sections, sections, indices, tensor_indices_or_sections) if a is not None]
    if len(given) != 1:
        raise TypeError("tensor_split(): pass exactly one of indices_or_sections, sections, indices and "
                        f"tensor_indices_or_sections, got {len(given)}")
    arg = given[0]
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _wrap_dim(dim, input.ndim)
    if isinstance(arg, Tensor):
        if arg.dtype is not _dtype.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{arg.dtype}")
        if arg.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {arg.ndim} dims")
        arg = arg.item() if arg.ndim == 0 else arg.tolist()
    if isinstance(arg, numbers.Integral) and not isinstance(arg, bool):
        if arg <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {arg}")
        size = input.shape[d]
        small, extra = divmod(size, arg)
        cuts, at = [], 0
        for i in range(arg - 1):
            at += small + (1 if i < extra else 0)
            cuts.append(at)
        return _pieces(input, d, cuts)
    if not isinstance(arg, (list, tuple)) or not builtins.all(
            isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in arg):
        raise TypeError(f"tensor_split(): indices_or_sections must be an int, a sequence of ints or an int64 "
                        f"tensor, got {arg!r}")
    return _pieces(input, d, [int(i) for i in arg])


def _numpy_split(fn, input, indices_or_sections, dim, min_ndim):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim < min_ndim:
        raise RuntimeError(f"torch.{fn} requires a tensor with at least {min_ndim} dimension, but got a tensor "
                           f"with {input.ndim} dimensions!")
    if isinstance(indices_or_sections, numbers.Integral) and not isinstance(indices_or_sections, bool):
        size = input.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(f"torch.{fn} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{size} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for 1-D input); an int must divide that dim."""
    return _numpy_split("hsplit", input, indices_or_sections, 1 if getattr(input, "ndim", 0) >= 2 else 0, 1)


def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of a tensor of at least 2 dims; an int must divide that dim."""
    return _numpy_split("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 of a tensor of at least 3 dims; an int must divide that dim."""
    return _numpy_split("dsplit", input, indices_or_sections, 2, 3)
