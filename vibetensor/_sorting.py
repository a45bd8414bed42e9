"""sort, argsort, msort and topk over the sort op (vt::sort, a CPU kernel; Note [Sorted selection])."""
from vibetensor import _C
from vibetensor import return_types
from vibetensor._functional import _wrap_dim

_ops = _C._ops

# Note [Sorted selection]
# topk is the first k of a sort (descending for largest=True), so it is differentiable through sort's
# backward and its results come sorted whatever `sorted` says (torch allows any order when sorted=False).
# The sort is stable, so equal values come in the order of their positions; torch's topk may pick
# another of several equal values, with the same values.


def sort(input, dim=-1, descending=False, *, stable=False):
    values, indices = _ops.sort(input, dim, descending, bool(stable))
    return return_types.sort(values, indices)


def argsort(input, dim=-1, descending=False, *, stable=False):
    return _ops.sort(input, dim, descending, bool(stable))[1]


def msort(input):
    return _ops.sort(input, 0, False, False)[0]


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 (torch's name)
    """The k largest (smallest with largest=False) elements along dim, in order; RuntimeError unless 0 <= k <= size."""
    size = input.shape[_wrap_dim(dim, input.ndim)] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: selected index k out of range: k={k}, but dim {dim} has size {size} "
                           f"(expected 0 <= k <= {size})")
    values, indices = _ops.sort(input, dim, bool(largest), True)
    if input.ndim:
        values, indices = _ops.narrow(values, dim, 0, k), _ops.narrow(indices, dim, 0, k)
    return return_types.topk(values, indices)
