"""Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_)."""
import math

from vibetensor import _C
from vibetensor import _factories
from vibetensor import _functional as F
from vibetensor.autograd.grad_mode import no_grad

Tensor = _C.Tensor


def _grads(parameters):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so that their joint norm is at most max_norm; returns the
    joint norm before clipping (a 0-d tensor), with torch's formula (coef = max_norm / (norm + 1e-6),
    clamped to 1)."""
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return _factories.tensor(0.0)
    with no_grad():
        norms = [F.norm(g, norm_type) for g in grads]
        total = F.norm(F.stack(norms), norm_type)
        if error_if_nonfinite:
            value = total.item()
            if math.isnan(value) or math.isinf(value):
                raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                                   "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
                                   "by the non-finite norm anyway, set `error_if_nonfinite=False`")
        coef = F.clamp(F.div(max_norm, F.add(total, 1e-6)), max=1.0)
        for g in grads:
            g.mul_(coef if coef.device == g.device else coef.to(g.device))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient in place to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(min=-clip_value, max=clip_value)
