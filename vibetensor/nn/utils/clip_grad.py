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


def _multi_tensor(grads, norm_type, foreach):
    """Whether one vt::_fused_clip_grad_norm_ call clips these gradients: the 2-norm of gradients of one
    dtype on one device, under optim.step=multi_tensor (Note [Multi-tensor gradient clipping] in
    csrc/ops/optim/clip_grad_norm.h), unless foreach=False asks for the per-tensor path."""
    if foreach is False or norm_type != 2.0 or _C._policy_get("optim.step") != "multi_tensor":
        return False
    g0 = grads[0]
    return all(g.dtype == g0.dtype and g.device == g0.device and g.is_contiguous() for g in grads)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so that their joint norm is at most max_norm; returns the
    joint norm before clipping (a 0-d tensor of the gradients' dtype), with torch's formula
    (coef = max_norm / (norm + 1e-6), clamped to 1). Under optim.step=multi_tensor the 2-norm of
    gradients of one dtype and device is one multi-tensor op (a few launches, no host sync); otherwise
    a norm per gradient and a multiply per gradient, as a per-parameter loop launches them."""
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return _factories.tensor(0.0)
    if _multi_tensor(grads, norm_type, foreach) and not error_if_nonfinite:
        # (error_if_nonfinite must see the norm before any gradient is scaled: the per-tensor path)
        with no_grad():
            total = _C._ops._fused_clip_grad_norm_(grads, max_norm)
        return total if total.dtype == grads[0].dtype else total.to(grads[0].dtype)
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
