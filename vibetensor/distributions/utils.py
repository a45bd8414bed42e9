"""Parameter helpers the distributions share (torch.distributions.utils): broadcasting parameters, probs <->
logits, lazily derived parameters, summing event dims."""
import numbers
from functools import update_wrapper

from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _factories
from vibetensor import _functional
from vibetensor._log1p_expm1 import log1p
from vibetensor._type_info import finfo
from vibetensor.autograd.grad_mode import enable_grad

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values):
    """The values broadcast to one shape; numbers become tensors of the first tensor's dtype and device (all
    numbers: the default dtype)."""
    if not all(isinstance(v, (_C.Tensor, numbers.Number)) for v in values):
        kinds = ", ".join(type(v).__name__ for v in values)
        raise ValueError(f"Input arguments must all be instances of numbers.Number or vibetensor.Tensor, got {kinds}")
    first = next((v for v in values if isinstance(v, _C.Tensor)), None)
    options = dict(dtype=_dtype.get_default_dtype()) if first is None else dict(dtype=first.dtype, device=first.device)
    tensors = [v if isinstance(v, _C.Tensor) else _factories.tensor(v, **options) for v in values]
    return _functional.broadcast_tensors(*tensors)


def _check_wrapped(owner, name, base, base_type, reinterpreted_batch_ndims):
    """The arguments of what reinterprets batch dims of a base as event dims (Independent, independent())."""
    if not isinstance(base, base_type):
        raise TypeError(f"{owner}: {name} must be a {base_type.__name__}, got {type(base).__name__}")
    if isinstance(reinterpreted_batch_ndims, bool) or not isinstance(reinterpreted_batch_ndims, int) \
            or reinterpreted_batch_ndims < 0:
        raise ValueError(f"{owner}: reinterpreted_batch_ndims must be an int >= 0, got {reinterpreted_batch_ndims!r}")


def _sum_rightmost(value, dim):
    """value summed over its dim rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from logits: sigmoid (binary: log-odds) or softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    return _functional.softmax(logits, -1)


def clamp_probs(probs):
    """probs clamped to [eps, 1 - eps] of their dtype, so that their logits are finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities (clamped first): log-odds log(p) - log1p(-p) (binary) or log(p)."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - log1p(-ps_clamped)
    return ps_clamped.log()


class lazy_property:
    """A parameter derived on first use and then stored on the instance (Categorical's logits from its probs):
    computed with grad enabled, so that it stays differentiable even when first read under no_grad."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
