"""Adamax (Adam with the infinity norm in place of the second moment), torch's single-tensor update."""
from vibetensor import _C
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.optim._checks import check_adam_like, check_host_step
from vibetensor.optim.optimizer import Optimizer

_ops = _C._ops


class Adamax(Optimizer):
    """foreach is accepted and changes nothing: every parameter takes the per-parameter update."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_adam_like("Adamax", lr, betas, eps, weight_decay)
        check_host_step("Adamax", capturable, differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def step(self, closure=None):
        loss = self._run_closure(closure)
        with no_grad():
            for group, p in self._params_with_grad():
                beta1, beta2 = group["betas"]
                state = self._lazy_state(p, "exp_avg", "exp_inf")
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                grad = -p.grad if group["maximize"] else p.grad
                state["step"] += 1
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                exp_avg.add_(grad.sub(exp_avg), alpha=1 - beta1)  # torch: exp_avg.lerp_(grad, 1 - beta1)
                # the exponentially weighted infinity norm: max(beta2 * exp_inf, |grad| + eps)
                exp_inf.copy_(_ops.maximum(exp_inf.mul_(beta2), grad.abs().add_(group["eps"])))
                step_size = group["lr"] / (1 - beta1 ** state["step"].item())
                p.addcdiv_(exp_avg, exp_inf, value=-step_size)
        return loss
