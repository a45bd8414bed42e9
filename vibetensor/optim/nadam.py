"""NAdam: Adam with Nesterov momentum and a momentum schedule (momentum_decay), torch's single-tensor update;
weight decay added to the gradient, or decoupled (NAdamW) with decoupled_weight_decay=True."""
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.optim._checks import check_adam_like, check_host_step, check_nonnegative
from vibetensor.optim.adam import _update_moments
from vibetensor.optim.optimizer import Optimizer


class NAdam(Optimizer):
    """foreach is accepted and changes nothing: every parameter takes the per-parameter update."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_adam_like("NAdam", lr, betas, eps, weight_decay)
        check_nonnegative(momentum_decay=momentum_decay)
        check_host_step("NAdam", capturable, differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def step(self, closure=None):
        loss = self._run_closure(closure)
        with no_grad():
            for group, p in self._params_with_grad():
                beta1, beta2 = group["betas"]
                lr, momentum_decay = group["lr"], group["momentum_decay"]
                state = self._lazy_state(p, "exp_avg", "exp_avg_sq", mu_product=1.0)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                state["step"] += 1
                step = state["step"].item()
                bias_correction2 = 1 - beta2 ** step
                grad = _update_moments(p, exp_avg, exp_avg_sq, group)
                # the momentum schedule: mu_t for this step, mu_{t+1} for the Nesterov look-ahead
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                # mu_product is a CPU tensor of the default dtype, as torch keeps it: rounded to it at every step
                state["mu_product"] *= mu
                mu_product = state["mu_product"].item()
                denom = exp_avg_sq.div(bias_correction2).sqrt().add_(group["eps"])
                p.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
                p.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product * mu_next))
        return loss
