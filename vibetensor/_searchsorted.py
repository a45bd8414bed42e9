"""searchsorted and bucketize: where values would be inserted into sorted boundaries to keep them sorted.

Note [Binary search from ops]
Every value is searched at once: lo and hi are tensors of positions, and each of ceil(log2(n + 1)) steps
gathers the boundary at their midpoint and moves lo or hi, as torch's kernel does for one value. The
comparisons are torch's, written so that nan sorts last: side="left" moves right while not (b >= v),
side="right" while not (b > v)."""
import numbers

from vibetensor import _C
from vibetensor import _dtype

Tensor = _C.Tensor
_ops = _C._ops


def _search(boundaries, values, right):
    """Insertion points of values [B, m] into the rows of boundaries [B, n] (B = 1: one row for all values)."""
    n = boundaries.shape[-1]
    lo = _ops.full(list(values.shape), 0, _dtype.int64, values.device)
    hi = _ops.full(list(values.shape), n, _dtype.int64, values.device)
    rows = _ops.expand(boundaries, [values.shape[0], n])
    for _ in range(n.bit_length()):
        active = _ops.lt(lo, hi)
        mid = _ops.div_rounded(_ops.add(lo, hi, 1), 2, "floor")
        at_mid = _ops.gather(rows, 1, _ops.clamp(mid, None, float(n - 1)))
        beyond = _ops.gt(at_mid, values) if right else _ops.ge(at_mid, values)
        go_right = _ops.logical_and(active, _ops.logical_not(beyond))
        lo = _ops.where(go_right, _ops.add(mid, 1, 1), lo)
        hi = _ops.where(_ops.logical_and(active, beyond), mid, hi)
    return lo


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """For each value of input, the index in the last dim of sorted_sequence where it would be inserted:
    before equal boundaries (right=False, side="left") or after them. sorted_sequence is 1-D, or its leading
    dims match input's; sorter sorts an unsorted sequence (Note [Binary search from ops])."""
    if out is not None:
        raise TypeError("searchsorted(): out= is not supported by vibetensor; assign the result instead")
    if not isinstance(sorted_sequence, Tensor):
        raise TypeError(f"searchsorted(): argument 'sorted_sequence' must be Tensor, not "
                        f"{type(sorted_sequence).__name__}")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = sorted_sequence
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    scalar = not isinstance(input, Tensor)
    if scalar:
        if isinstance(input, bool) or not isinstance(input, numbers.Real):
            raise TypeError(f"searchsorted(): input must be a Tensor or a number, not {type(input).__name__}")
        if seq.ndim != 1:
            raise RuntimeError(f"torch.searchsorted(): input value can be a scalar only when boundaries tensor "
                               f"dimension is 1, but we got boundaries tensor dim({seq.ndim})")
        input = _ops.full([], input, _dtype.int64 if isinstance(input, numbers.Integral) else _dtype.float32,
                          seq.device)
    if seq.ndim > 1 and list(seq.shape[:-1]) != list(input.shape[:-1]):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(input.shape)}")
    if sorter is not None:
        if not isinstance(sorter, Tensor) or sorter.dtype is not _dtype.int64:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype")
        if list(sorter.shape) != list(seq.shape):
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(seq.shape)} and got sorter tensor {list(sorter.shape)}")
        seq = _ops.gather(seq, seq.ndim - 1, sorter)
    seq, values = seq.detach(), input.detach()
    if seq.ndim == 1:  # one row of boundaries for every value
        found = _search(_ops.reshape(seq, [1, seq.shape[0]]), _ops.reshape(values, [1, values.numel()]), right)
    else:
        rows = _numel(seq.shape[:-1])
        found = _search(_ops.reshape(seq, [rows, seq.shape[-1]]), _ops.reshape(values, [rows, values.shape[-1]]),
                        right)
    found = _ops.reshape(found, list(input.shape))
    return _ops.to_dtype(found, _dtype.int32) if out_int32 else found


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The index of the bucket of each value of input among the 1-D sorted boundaries: i such that
    boundaries[i - 1] < v <= boundaries[i] (right=True: boundaries[i - 1] <= v < boundaries[i])."""
    if not isinstance(boundaries, Tensor):
        raise TypeError(f"bucketize(): argument 'boundaries' must be Tensor, not {type(boundaries).__name__}")
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)
