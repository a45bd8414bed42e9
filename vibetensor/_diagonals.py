"""Diagonals: diagonal (a view of one), diag_embed and diag (matrices built from them), block_diag.

Note [diagonal as a view]
The elements of a diagonal lie one stride[dim1] + stride[dim2] apart in memory, so diagonal is as_strided with
that stride, a view that writes through as torch's does. as_strided differentiates only a contiguous input:
a non-contiguous input that needs a gradient is copied first, and the diagonal is then a view of the copy."""
import builtins

from vibetensor import _C
from vibetensor import _dtype
from vibetensor._functional import _wrap_dim

Tensor = _C.Tensor
_ops = _C._ops


def _check_tensor(fn, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")


def _diagonal_length(n1, n2, offset):
    return builtins.max(0, builtins.min(n1, n2 - offset) if offset >= 0 else builtins.min(n1 + offset, n2))


def _distinct_dims(dim1, dim2, ndim):
    d1, d2 = _wrap_dim(dim1, ndim), _wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The view of the elements input[..., i, ..., i + offset, ...] of dims dim1 and dim2, as a last dim
    (Note [diagonal as a view])."""
    _check_tensor("diagonal", input)
    if input.ndim < 2:
        raise RuntimeError(f"diagonal(): expected a tensor of at least 2 dims, got a {input.ndim}-D tensor")
    d1, d2 = _distinct_dims(dim1, dim2, input.ndim)
    src = input
    if input.requires_grad and _C.is_grad_enabled() and not input.is_contiguous():
        src = _ops.contiguous(input)
    strides, shape = src.stride(), list(src.shape)
    length = _diagonal_length(shape[d1], shape[d2], offset)
    start = src.storage_offset()
    if length > 0:
        start += offset * strides[d2] if offset >= 0 else -offset * strides[d1]
    keep = [d for d in range(src.ndim) if d not in (d1, d2)]
    return _ops.as_strided(src, [shape[d] for d in keep] + [length],
                           [strides[d] for d in keep] + [strides[d1] + strides[d2]], start)


_diagonal = diagonal  # for diag, whose argument named `diagonal` (torch's name) hides the function


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices in dims dim1, dim2 of the result whose offset-th diagonals hold input's last dim (zeros
    elsewhere)."""
    _check_tensor("diag_embed", input)
    if input.ndim < 1:
        raise RuntimeError("diag_embed(): expected a tensor of at least 1 dim, got a 0-D tensor")
    d1, d2 = _distinct_dims(dim1, dim2, input.ndim + 1)
    batch, n = list(input.shape[:-1]), input.shape[-1]
    size = n + builtins.abs(offset)
    # The diagonal's places in the flattened size x size matrix; index_add puts input there (its gradient is
    # the gather of those places).
    first = offset if offset >= 0 else -offset * size
    places = _ops.arange(first, first + n * (size + 1), size + 1, _dtype.int64, input.device)
    flat = _ops.index_add(_ops.full(batch + [size * size], 0, input.dtype, input.device), input.ndim - 1, places, input)
    out = _ops.reshape(flat, batch + [size, size])
    # The two matrix dims, now last, to dim1 and dim2 (in that order: row index to dim1).
    order = [None] * (input.ndim + 1)
    order[d1], order[d2] = input.ndim - 1, input.ndim
    rest = iter(range(input.ndim - 1))
    return _ops.permute(out, [o if o is not None else next(rest) for o in order])


def diag(input, diagonal=0):
    """A vector's square matrix with it on the given diagonal, or a matrix's diagonal as a vector."""
    _check_tensor("diag", input)
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return _ops.clone(_diagonal(input, diagonal))  # torch's diag copies
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def block_diag(*tensors):
    """The matrix with the given tensors (0-D, 1-D taken as one row, 2-D) as blocks along its diagonal."""
    if not tensors:
        return _ops.full([1, 0], 0, _dtype.get_default_dtype(), None)
    blocks = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"block_diag(): argument {i} must be Tensor, not {type(t).__name__}")
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
        blocks.append(_ops.reshape(t, [1, 1] if t.ndim == 0 else [1, t.shape[0]] if t.ndim == 1 else list(t.shape)))
    dtype = blocks[0].dtype
    for b in blocks[1:]:
        dtype = _C.promote_types(dtype, b.dtype)
    device = blocks[0].device
    if builtins.any(b.device != device for b in blocks):
        raise RuntimeError("torch.block_diag: input tensors must all be on the same device, got "
                           + ", ".join(str(b.device) for b in blocks))
    width = builtins.sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        h, w = b.shape
        b = b if b.dtype is dtype else _ops.to_dtype(b, dtype)
        pad_left = _ops.full([h, left], 0, dtype, device)
        pad_right = _ops.full([h, width - left - w], 0, dtype, device)
        rows.append(_ops.cat([pad_left, b, pad_right], 1))
        left += w
    return _ops.cat(rows, 0)
