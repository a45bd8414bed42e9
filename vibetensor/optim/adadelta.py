"""Adadelta with torch's single-tensor update (weight decay, maximize)."""
from vibetensor import _C
from vibetensor import _factories
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.optim._checks import check_host_step, check_nonnegative
from vibetensor.optim.optimizer import Optimizer

_ops = _C._ops


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check_host_step("Adadelta", capturable, differentiable)  # refused, not ignored
        check_nonnegative(lr=lr, epsilon=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def step(self, closure=None):
        loss = self._run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                rho, eps = group["rho"], group["eps"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["step"] = _factories.tensor(0.0)
                        state["square_avg"] = _ops.full(list(p.shape), 0, p.dtype, p.device)
                        state["acc_delta"] = _ops.full(list(p.shape), 0, p.dtype, p.device)
                    state["step"] += 1
                    grad = -p.grad if group["maximize"] else p.grad
                    if group["weight_decay"] != 0:
                        grad = grad.add(p, alpha=group["weight_decay"])
                    square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                    square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
                    std = square_avg.add(eps).sqrt()
                    delta = acc_delta.add(eps).sqrt().div(std).mul(grad)
                    acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
                    p.add_(delta, alpha=-group["lr"])
        return loss
