"""Tensor.__getitem__ / __setitem__ with torch's semantics.

Note [Indexing]
An index is applied in two phases, as torch does:
  1. basic: ints select, slices slice, None / True unsqueeze, Ellipsis expands -- all views;
  2. advanced: integer tensors (and lists) and bool masks, on the dims of the view that phase 1
     left. One integer index on one dim is an index_select; several broadcast together and index
     a reshaped view through one flattened linear index. The result's indexed dims sit where the
     indices were when those are adjacent, first otherwise (numpy's rule; ints were consumed in
     phase 1, so they never separate the advanced indices, matching torch). A bool mask covering
     the whole view is a masked_select; other masks become integer indices (their nonzero
     positions, computed on the host).
Assignment writes through views with copy_ / fill_ / masked_fill_. For advanced indices it
computes which flat positions of the target are written (by indexing a tensor of positions with
the same index) and blends the values in with where; a position written several times takes the
last value, as torch's CPU index_put_ does.
"""
import builtins
import math
import numbers

import numpy as np

from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _interop
from vibetensor import _factories
from vibetensor import _functional as F

Tensor = _C.Tensor
_ops = _C._ops


def _as_index_tensor(item, device):
    """A list / numpy array index as a tensor (bool lists become masks)."""
    t = _factories.tensor(item)
    if t.dtype.is_floating_point and t.numel() == 0:  # x[[]]: an empty integer index
        t = _ops.to_dtype(t, _dtype.int64)
    return t if t.device == device else _ops.to_device(t, device, False)


def _normalize(t, index):
    """The index as a tuple of None / Ellipsis / bool / int / slice / Tensor items, validated."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for it in items:
        if it is None or it is Ellipsis or isinstance(it, (builtins.bool, np.bool_)):
            out.append(builtins.bool(it) if isinstance(it, np.bool_) else it)
        elif isinstance(it, slice):
            out.append(it)
        elif isinstance(it, Tensor):
            if it.dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(it)
        elif isinstance(it, (numbers.Integral, np.integer)):
            out.append(int(it))
        elif isinstance(it, (list, np.ndarray)) or (not isinstance(it, str) and hasattr(it, "__dlpack__")):
            idx = _as_index_tensor(it, t.device)
            if idx.dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(idx)
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             f"valid indices (got {type(it).__name__})")
    return out


def _consumed(it):
    if isinstance(it, Tensor):
        return it.ndim if it.dtype is _dtype.bool else 1
    return 1 if isinstance(it, (int, slice)) and not isinstance(it, builtins.bool) else 0


def _apply_basic(t, index):
    """Phase 1 of Note [Indexing]: a view of t and the advanced indices left as (view dim, tensor)."""
    items = _normalize(t, index)
    n_ellipsis = builtins.sum(1 for it in items if it is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = builtins.sum(_consumed(it) for it in items)
    if consumed > t.ndim:
        if t.ndim == 0 and consumed == 1 and isinstance(items[0], int):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
                             "C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {t.ndim}")
    # d: the dim of `view` the next item applies to; src: the same dim counted in t (for errors).
    view, d, src, adv = t, 0, 0, []
    for it in items:
        if it is None:
            view = _ops.unsqueeze(view, d)
            d += 1
        elif it is Ellipsis:
            d += t.ndim - consumed
            src += t.ndim - consumed
        elif isinstance(it, builtins.bool):
            view = _ops.unsqueeze(view, d)
            if not it:
                view = _ops.slice(view, d, 0, 0, 1)
            d += 1
        elif isinstance(it, int):
            size = view.shape[d]
            if not -size <= it < size:
                raise IndexError(f"index {it} is out of bounds for dimension {src} with size {size}")
            view = _ops.select(view, d, it)
            src += 1
        elif isinstance(it, slice):
            step = 1 if it.step is None else int(it.step)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            size = view.shape[d]
            start, stop, step = slice(it.start, it.stop, step).indices(size)
            if not (start == 0 and stop == size and step == 1):
                view = _ops.slice(view, d, start, builtins.max(start, stop), step)
            d += 1
            src += 1
        else:  # an index tensor
            adv.append((d, it, src))
            d += _consumed(it)
            src += _consumed(it)
    return view, adv


def _mask_positions(view, d, mask, src):
    """The integer indices (one per mask dim) of a bool mask applied at view dim d (dim src of the
    indexed tensor), as (view dim, index tensor, src dim)."""
    expected = list(view.shape[d:d + mask.ndim])
    if list(mask.shape) != expected:
        j = next(j for j, (m, e) in enumerate(zip(mask.shape, expected + [None] * mask.ndim)) if m != e)
        raise IndexError(f"The shape of the mask {list(mask.shape)} at index {j} does not match the shape of the "
                         f"indexed tensor {list(view.shape)} at index {d + j}")
    return [(d + j, _factories.tensor(p, dtype=_dtype.int64, device=view.device), src + j)
            for j, p in enumerate(np.nonzero(_interop.host_values(mask)))]


def _checked(view, d, idx, src):
    """idx as int64 with negative entries wrapped; IndexError for entries out of range of dim d
    (dim src of the indexed tensor)."""
    size = view.shape[d]
    values = _interop.host_values(idx)
    if values.size:
        lo, hi = int(values.min()), int(values.max())
        if lo < -size or hi >= size:
            bad = hi if hi >= size else lo
            raise IndexError(f"index {bad} is out of bounds for dimension {src} with size {size}")
    else:
        lo = 0
    if idx.dtype is not _dtype.int64:
        idx = _ops.to_dtype(idx, _dtype.int64)
    if lo < 0:
        idx = _ops.where(_ops.lt(idx, 0), _ops.add(idx, size, 1), idx)
    return idx


def _apply_advanced(view, adv):
    """Phase 2 of Note [Indexing]."""
    if len(adv) == 1 and adv[0][1].dtype is _dtype.bool and adv[0][0] == 0 and adv[0][1].ndim == view.ndim:
        mask = adv[0][1]
        if list(mask.shape) != list(view.shape):
            _mask_positions(view, 0, mask, adv[0][2])  # raises the shape error
        return _ops.masked_select(view, mask)
    indices = []
    for d, idx, src in adv:
        if idx.dtype is _dtype.bool:
            indices.extend(_mask_positions(view, d, idx, src))
        else:
            indices.append((d, _checked(view, d, idx, src), src))
    if len(indices) == 1:
        d, idx, _ = indices[0]
        out = _ops.index_select(view, d, _ops.reshape(idx, [-1]))
        if idx.ndim == 1:
            return out
        shape = list(view.shape)
        return _ops.reshape(out, shape[:d] + list(idx.shape) + shape[d + 1:])
    try:
        bshape = list(F.broadcast_shapes(*(idx.shape for _, idx, _ in indices)))
    except RuntimeError:
        shapes = ", ".join(str(list(idx.shape)) for _, idx, _ in indices)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}") \
            from None
    dims = [d for d, _, _ in indices]
    rest = [d for d in range(view.ndim) if d not in dims]
    sizes = [view.shape[d] for d in dims]
    rest_sizes = [view.shape[d] for d in rest]
    flat = _ops.reshape(_ops.permute(view, dims + rest), [math.prod(sizes)] + rest_sizes)
    linear = None
    for i, (_, idx, _) in enumerate(indices):
        term = _ops.mul(idx, math.prod(sizes[i + 1:]))
        linear = term if linear is None else _ops.add(linear, term, 1)
    linear = _ops.expand(linear, bshape) if list(linear.shape) != bshape else linear
    out = _ops.reshape(_ops.index_select(flat, 0, _ops.reshape(linear, [-1])), bshape + rest_sizes)
    d0 = dims[0]
    if dims == list(range(d0, d0 + len(dims))) and d0 > 0:
        nb = len(bshape)
        order = [nb + i for i in range(d0)] + list(range(nb)) + [nb + i for i in range(d0, len(rest))]
        out = _ops.permute(out, order)
    return out


def getitem(t, index):
    view, adv = _apply_basic(t, index)
    if adv:
        return _apply_advanced(view, adv)
    if view is t:  # x[...] / x[:]: a new alias, as torch returns
        return _ops.view(t, list(t.shape))
    return view


# --- assignment -----------------------------------------------------------------------------

def _value_tensor(value, like, shape):
    """value as a tensor of like's dtype and device, broadcast to shape (leading 1s dropped, as torch)."""
    v = value if isinstance(value, Tensor) else _factories.tensor(value, device=like.device)
    if v.dtype is not like.dtype:
        v = _ops.to_dtype(v, like.dtype)
    while v.ndim > len(shape) and v.shape[0] == 1:
        v = _ops.squeeze(v, [0])
    if list(v.shape) != list(shape):
        try:
            v = _ops.expand(v, list(shape))
        except (RuntimeError, ValueError):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape) if isinstance(value, Tensor) else []}"
                               f" cannot be broadcast to indexing result of shape {list(shape)}") from None
    return v


def _number_for(dtype, value):
    """A Python number assigned into a tensor is converted as torch does (floats truncate into
    integer tensors)."""
    if isinstance(value, np.generic):
        value = value.item()
    if dtype is _dtype.bool:
        return builtins.bool(value)
    if not dtype.is_floating_point and isinstance(value, float):
        return builtins.int(value)
    return value


def _assign(view, value):
    if isinstance(value, Tensor):
        _ops.copy_(view, _value_tensor(value, view, view.shape), False)
    else:
        _ops.fill_(view, _number_for(view.dtype, value))


def _scatter(target, positions, value):
    """Writes value (broadcast to positions' shape) at the flat positions of target."""
    pos = _interop.host_values(positions).reshape(-1)
    n = target.numel()
    # Last write wins for repeated positions: keep each position's last occurrence.
    uniq, first_in_reversed = np.unique(pos[::-1], return_index=True)
    last = len(pos) - 1 - first_in_reversed
    hit = np.zeros(n, dtype=np.bool_)
    hit[uniq] = True
    hit_t = _factories.tensor(hit, device=target.device)
    flat = _ops.reshape(target, [-1])
    if isinstance(value, Tensor):
        v = _ops.reshape(_value_tensor(value, target, positions.shape), [-1])
        src = np.zeros(n, dtype=np.int64)
        src[uniq] = last
        new = _ops.index_select(v, 0, _factories.tensor(src, device=target.device)) if v.numel() else flat
    else:
        new = _number_for(target.dtype, value)
    updated = _ops.where(hit_t, new, flat)
    _ops.copy_(target, _ops.reshape(updated, list(target.shape)), False)


def setitem(t, index, value):
    if not isinstance(value, (Tensor, numbers.Number, np.generic)):
        value = _factories.tensor(value, device=t.device)
    tracked = _C.is_grad_enabled() and t.requires_grad
    if tracked and t.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if tracked:
        # vibetensor does not track view bases: the update is computed out of place over the whole
        # tensor and copied in, so t itself takes the history (see Note [In-place autograd]).
        positions = _ops.reshape(_factories.arange(t.numel(), device=t.device), list(t.shape))
        _scatter(t, getitem(positions, index), value)
        return
    view, adv = _apply_basic(t, index)
    if not adv:
        _assign(view, value)
        return
    if len(adv) == 1 and adv[0][1].dtype is _dtype.bool and (not isinstance(value, Tensor) or value.numel() == 1):
        d, mask, src = adv[0]
        expected = list(view.shape[d:d + mask.ndim])
        if list(mask.shape) != expected:
            _mask_positions(view, d, mask, src)  # raises the shape error
        m = _ops.reshape(mask, [1] * d + list(mask.shape) + [1] * (view.ndim - d - mask.ndim))
        _ops.masked_fill_(view, m, value if isinstance(value, Tensor) else _number_for(view.dtype, value))
        return
    positions = _ops.reshape(_factories.arange(view.numel(), device=view.device), list(view.shape))
    _scatter(view, _apply_advanced(positions, adv), value)
