"""RAdam: Adam with the variance of the adaptive lr rectified (plain momentum SGD while the approximated SMA
length rho_t is 5 or less), torch's single-tensor update; weight decay added to the gradient, or decoupled
with decoupled_weight_decay=True."""
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.optim._checks import check_adam_like, check_host_step
from vibetensor.optim.adam import _update_moments
from vibetensor.optim.optimizer import Optimizer


class RAdam(Optimizer):
    """foreach is accepted and changes nothing: every parameter takes the per-parameter update."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        check_adam_like("RAdam", lr, betas, eps, weight_decay)
        check_host_step("RAdam", capturable, differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def step(self, closure=None):
        loss = self._run_closure(closure)
        with no_grad():
            for group, p in self._params_with_grad():
                beta1, beta2 = group["betas"]
                lr = group["lr"]
                state = self._lazy_state(p, "exp_avg", "exp_avg_sq")
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                state["step"] += 1
                step = state["step"].item()
                _update_moments(p, exp_avg, exp_avg_sq, group)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                update = exp_avg.div(bias_correction1).mul_(lr)
                rho_inf = 2 / (1 - beta2) - 1  # the maximum length of the approximated SMA
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    # torch: bias_correction2 ** 0.5 / (sqrt(exp_avg_sq) + eps), computed as a reciprocal times
                    # the number (Tensor.__rtruediv__), then the rectification term
                    adaptive_lr = exp_avg_sq.sqrt().add_(group["eps"]).reciprocal().mul_(bias_correction2 ** 0.5)
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    update.mul_(adaptive_lr).mul_(rect)
                p.add_(update, alpha=-1.0)
        return loss
