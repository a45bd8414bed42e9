"""unique and unique_consecutive: the distinct values (or runs) of a tensor, with the inverse mapping and the
counts, from one stable sort and a comparison of neighbours.

Note [unique from a sort]
After a stable sort, a value starts a new group where it differs from the one before it; the group ids are the
cumsum of those starts, the inverse sends each id back to its element's place through the sort's permutation,
and the counts are the sizes of the groups. nan differs from everything, itself included, so every nan is its
own group, and 0 and -0 are one: torch's unique does the same. unique along a dim sorts the slices
lexicographically, one stable sort per position from the last to the first (a radix sort of rows).
"""
from vibetensor import _C
from vibetensor import _dtype
from vibetensor._functional import _wrap_dim, movedim
from vibetensor._nonzero import nonzero

Tensor = _C.Tensor
_ops = _C._ops


def _groups(starts, device):
    """(group id of each position, count of each group) from the bool mask of group starts."""
    ids = _ops.sub(_ops.cumsum(starts, 0, _dtype.int64), 1, 1)
    n_groups = _ops.sum(starts, None, False, _dtype.int64).item() if starts.numel() else 0
    counts = _ops.scatter_add(_ops.full([n_groups], 0, _dtype.int64, device), 0, ids,
                              _ops.full([starts.shape[0]], 1, _dtype.int64, device))
    return ids, counts


def _starts(keys):
    """True where row i of keys (a [n, ...] tensor) differs from row i - 1, and at row 0."""
    n = keys.shape[0]
    if n == 0:
        return _ops.full([0], True, _dtype.bool, keys.device)
    differs = _ops.ne(_ops.narrow(keys, 0, 1, n - 1), _ops.narrow(keys, 0, 0, n - 1))
    if differs.ndim > 1:
        differs = _ops.gt(_ops.sum(_ops.flatten(differs, 1, -1), [1], False, _dtype.int64), 0)
    return _ops.cat([_ops.full([1], True, _dtype.bool, keys.device), differs], 0)


def _result(values, inverse, counts, return_inverse, return_counts):
    out = [values] + ([inverse] if return_inverse else []) + ([counts] if return_counts else [])
    return out[0] if len(out) == 1 else tuple(out)


def _check(fn, input, dim):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if dim is not None and input.ndim == 0:
        raise IndexError(f"{fn}(): dim={dim} given for a 0-D tensor, which has no dims")


def _rows(fn, x, d):
    """The slices of x along dim d as the rows of a [n, rest] view or copy, and the slices themselves."""
    if any(size == 0 for i, size in enumerate(x.shape) if i != d):
        raise RuntimeError(f"{fn}(): there are 0 sized dimensions, and they aren't selected, so unique cannot be "
                           f"applied (shape {list(x.shape)}, dim {d})")
    slices = movedim(x, d, 0)  # the other dims in order: the rows compare as torch's slices do
    n = slices.shape[0]
    return _ops.reshape(slices, [n, slices.numel() // n if n else 0]), slices


def _first_of_groups(starts):
    return nonzero(starts, as_tuple=True)[0]


def _place_back(perm, ids):
    """inverse[perm[i]] = ids[i]: the group of each element in its original place."""
    return _ops.scatter_add(_ops.full([perm.shape[0]], 0, _dtype.int64, perm.device), 0, perm, ids)


def _sorted_rows(rows):
    """The permutation that sorts the rows of [n, m] lexicographically (Note [unique from a sort])."""
    order = _ops.arange(0, rows.shape[0], 1, _dtype.int64, rows.device)
    for column in reversed(range(rows.shape[1])):
        _, by = _ops.sort(_ops.index_select(_ops.select(rows, 1, column), 0, order), 0, False, True)
        order = _ops.index_select(order, 0, by)
    return order


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of input in ascending order (1-D; with dim: the distinct slices along dim, in
    lexicographic order), and optionally the inverse (the index in that result of each element or slice) and
    the count of each (Note [unique from a sort]). sorted=False sorts too (torch leaves that order unspecified).
    Not differentiable, as torch's."""
    _check("unique", input, dim)
    x = input.detach()
    if dim is not None:
        d = _wrap_dim(dim, x.ndim)
        rows, slices = _rows("unique", x, d)
        perm = _sorted_rows(rows)
        ordered = _ops.index_select(slices, 0, perm)
        starts = _starts(_ops.index_select(rows, 0, perm))
        ids, counts = _groups(starts, x.device)
        values = movedim(_ops.index_select(ordered, 0, _first_of_groups(starts)), 0, d)
        return _result(values, _place_back(perm, ids), counts, return_inverse, return_counts)
    flat = _ops.flatten(x, 0, -1) if x.ndim else _ops.reshape(x, [1])
    ordered, perm = _ops.sort(flat, 0, False, True)
    starts = _starts(ordered)
    ids, counts = _groups(starts, x.device)
    return _result(_ops.masked_select(ordered, starts), _ops.reshape(_place_back(perm, ids), list(x.shape)), counts,
                   return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The first element of each run of equal consecutive values (of the flattened input; with dim: of equal
    consecutive slices along dim), with the inverse (the run of each element) and the run lengths."""
    _check("unique_consecutive", input, dim)
    x = input.detach()
    if dim is None:
        flat = _ops.flatten(x, 0, -1) if x.ndim else _ops.reshape(x, [1])
        starts = _starts(flat)
        ids, counts = _groups(starts, x.device)
        return _result(_ops.masked_select(flat, starts), _ops.reshape(ids, list(x.shape)), counts, return_inverse,
                       return_counts)
    d = _wrap_dim(dim, x.ndim)
    rows, slices = _rows("unique_consecutive", x, d)
    starts = _starts(rows)
    ids, counts = _groups(starts, x.device)
    kept = movedim(_ops.index_select(slices, 0, _first_of_groups(starts)), 0, d)
    return _result(kept, ids, counts, return_inverse, return_counts)
