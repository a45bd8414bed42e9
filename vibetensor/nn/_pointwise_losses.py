"""Losses computed element by element and then reduced (torch.nn.functional's mse_loss, l1_loss,
smooth_l1_loss, huber_loss and kl_div), composed from ops so autograd differentiates input and target alike."""
import warnings

from vibetensor import _C
from vibetensor import _functional as _F
from vibetensor.nn import _reduction

_ops = _C._ops


def _warn_if_sizes_differ(input, target):
    """torch's warning when target broadcasts against input instead of matching it."""
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({tuple(target.shape)}) that is different to the input size "
                      f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _difference(input, target):
    """input - target over their broadcast shape (a RuntimeError when they do not broadcast)."""
    input, target = _F.broadcast_tensors(input, target)
    return _ops.sub(input, target, 1)


def _check_weight(weight, input):
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"Weights and input must have the same size: weight {tuple(weight.shape)}, input "
                         f"{tuple(input.shape)}.")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """(input - target)^2."""
    _warn_if_sizes_differ(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    diff = _difference(input, target)
    return _reduction.reduce_loss(_ops.mul(diff, diff), reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|; with weight (input's shape) each term is weighted and 'mean' divides by weight's sum."""
    _warn_if_sizes_differ(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    loss = _ops.abs(_difference(input, target))
    if weight is None:
        return _reduction.reduce_loss(loss, reduction)
    _check_weight(weight, input)
    loss = _ops.mul(loss, weight)
    if reduction == "mean":
        return _ops.div(_ops.sum(loss, None, False, None), _ops.sum(weight, None, False, None))
    return _reduction.reduce_loss(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 * d^2 / beta where d = |input - target| < beta, else d - 0.5 * beta (beta = 0: the L1 loss)."""
    _warn_if_sizes_differ(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got beta={beta}.")
    d = _ops.abs(_difference(input, target))
    if beta == 0:
        return _reduction.reduce_loss(d, reduction)
    quadratic = _ops.div(_ops.mul(_ops.mul(d, 0.5), d), beta)
    loss = _ops.where(_ops.lt(d, beta), quadratic, _ops.sub(d, 0.5 * beta, 1))
    return _reduction.reduce_loss(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 * d^2 where d = |input - target| < delta, else delta * (d - 0.5 * delta); weight (input's shape)
    scales each term before the reduction."""
    _warn_if_sizes_differ(input, target)
    _reduction.check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got delta={delta}.")
    d = _ops.abs(_difference(input, target))
    quadratic = _ops.mul(_ops.mul(d, 0.5), d)
    loss = _ops.where(_ops.lt(d, delta), quadratic, _ops.mul(_ops.sub(d, 0.5 * delta, 1), delta))
    if weight is not None:
        _check_weight(weight, input)
        loss = _ops.mul(loss, weight)
    return _reduction.reduce_loss(loss, reduction)


def _xlogx(t):
    """t * log(t), 0 where t == 0 (gradient included): the where keeps log away from 0."""
    zero = _ops.eq(t, 0.0)
    return _ops.where(zero, 0.0, _ops.mul(t, _ops.log(_ops.where(zero, 1.0, t))))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log(target) - input) elementwise (input holds log-probabilities; log_target: so does
    target). 'batchmean' divides the sum by the batch size (input's first dim), the KL divergence's
    definition; 'mean' divides by the number of elements, with torch's warning."""
    if size_average is not None or reduce is not None:
        reduction = _reduction.legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    _reduction.check_reduction(reduction, _reduction.REDUCTIONS + ("batchmean",))
    if log_target:
        loss = _ops.mul(_ops.exp(target), _ops.sub(target, input, 1))
    else:
        loss = _ops.sub(_xlogx(target), _ops.mul(target, input), 1)
    if reduction != "batchmean":
        return _reduction.reduce_loss(loss, reduction)
    total = _ops.sum(loss, None, False, None)
    return _ops.div(total, input.shape[0]) if input.ndim else total
