"""flip, rot90, roll and repeat_interleave, composed of views, index_select and cat so that autograd flows
through them and every device runs them."""
import builtins
import numbers

from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _factories
from vibetensor._functional import _wrap_dim

_ops = _C._ops
Tensor = _C.Tensor


def _dim_list(dims, ndim, fn):
    dims = [dims] if isinstance(dims, numbers.Integral) else list(dims)
    wrapped = [_wrap_dim(d, ndim) for d in dims]
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"{fn}: dims {dims} name dim {next(d for d in wrapped if wrapped.count(d) > 1)} more than once")
    return wrapped


def flip(input, dims):
    """The elements in reverse order along each of dims (a copy, as in torch)."""
    out = input
    for d in _dim_list(dims, input.ndim, "flip"):
        n = input.shape[d]
        out = _ops.index_select(out, d, _ops.arange(n - 1, -1, -1, _dtype.int64, input.device))
    return out if out is not input else _ops.clone(input)


def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got a {input.ndim}-D tensor")
    return flip(input, [1])


def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d, got a 0-D tensor")
    return flip(input, [0])


def rot90(input, k=1, dims=(0, 1)):
    """input rotated k quarter turns in the plane of dims, from dims[0] toward dims[1] (a copy, as in torch)."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = (_wrap_dim(d, input.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k = int(k) % 4
    if k == 1:
        return _ops.transpose(flip(input, [d1]), d0, d1)
    if k == 2:
        return flip(input, [d0, d1])
    if k == 3:
        return _ops.transpose(flip(input, [d0]), d0, d1)
    return _ops.clone(input)


def roll(input, shifts, dims=None):
    """Each element moved shifts[i] places along dims[i], wrapping around; dims=None rolls the flattened tensor."""
    shifts = [shifts] if isinstance(shifts, numbers.Integral) else [int(s) for s in shifts]
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: without dims, shifts must be one int, got {shifts}")
        return _ops.view(roll(_ops.flatten(input, 0, -1), shifts, 0), list(input.shape))
    dims = [dims] if isinstance(dims, numbers.Integral) else list(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    out = input
    for shift, d in zip(shifts, dims):
        d = _wrap_dim(d, input.ndim)
        n = input.shape[d] if input.ndim else 1
        s = shift % n if n else 0
        if s:
            out = _ops.cat([_ops.narrow(out, d, n - s, s), _ops.narrow(out, d, 0, n - s)], d)
    return out if out is not input else _ops.clone(input)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (slice along dim; of the flattened tensor without dim) repeated repeats times (an int, or a
    count per element); repeat_interleave(repeats) alone repeats arange(len(repeats))."""
    if repeats is None:  # torch.repeat_interleave(repeats)
        counts = input
        if counts.ndim != 1:
            raise RuntimeError(f"repeat_interleave: repeats must be 0-dim or 1-dim tensor, got {counts.ndim}-D")
        return repeat_interleave(_ops.arange(0, counts.shape[0], 1, _dtype.int64, counts.device), counts, 0)
    x = _ops.flatten(input, 0, -1) if dim is None else input
    d = 0 if dim is None else _wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        x = _ops.reshape(x, [1])
    n = x.shape[d]
    if isinstance(repeats, Tensor):
        if repeats.dtype.is_floating_point or repeats.dtype is _dtype.bool:
            raise RuntimeError(f"repeat_interleave: repeats must be an integer tensor, got {repeats.dtype}")
        counts = repeats.tolist()
        counts = [counts] if isinstance(counts, numbers.Integral) else counts
    else:
        counts = [int(repeats)]
    if len(counts) == 1 and n != 1:
        counts = counts * n
    if len(counts) != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{len(counts)} and input.size({d}) = {n}")
    if builtins.any(c < 0 for c in counts):
        raise RuntimeError(f"repeat_interleave: repeats can not be negative, got {counts}")
    if output_size is not None and output_size != builtins.sum(counts):
        raise RuntimeError(f"repeat_interleave: output_size={output_size} but the repeats sum to {builtins.sum(counts)}")
    index = [i for i, c in enumerate(counts) for _ in range(c)]
    return _ops.index_select(x, d, _factories.tensor(index, dtype=_dtype.int64, device=x.device))
