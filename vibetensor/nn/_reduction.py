"""How a loss reduces its elementwise values (torch.nn._reduction): the reduction argument's check, the
reduction itself, and the legacy size_average / reduce arguments that torch still maps onto it."""
import warnings

from vibetensor import _C

_ops = _C._ops

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{reduction!r} is not a valid value for reduction: expected one of {allowed}")


def reduce_loss(loss, reduction):
    if reduction == "mean":
        return _ops.mean(loss, None, False, None)
    if reduction == "sum":
        return _ops.sum(loss, None, False, None)
    return loss


def legacy_get_string(size_average, reduce, emit_warning=True):
    """The reduction that the deprecated size_average / reduce pair means (None counts as True), with
    torch's deprecation warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                      stacklevel=3)
    return ret


def resolve(size_average, reduce, reduction, allowed=REDUCTIONS):
    """reduction, or the legacy pair's meaning where either is given; checked."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    check_reduction(reduction, allowed)
    return reduction
