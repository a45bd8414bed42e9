"""RMSprop with torch's single-tensor update (momentum, centered, weight decay, maximize)."""
from vibetensor import _C
from vibetensor import _factories
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.optim._checks import check_host_step, check_nonnegative
from vibetensor.optim.optimizer import Optimizer

_ops = _C._ops


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_host_step("RMSprop", capturable, differentiable)  # refused, not ignored
        check_nonnegative(lr=lr, epsilon=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _state(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = _factories.tensor(0.0)
            state["square_avg"] = _ops.full(list(p.shape), 0, p.dtype, p.device)
            if group["momentum"] > 0:
                state["momentum_buffer"] = _ops.full(list(p.shape), 0, p.dtype, p.device)
            if group["centered"]:
                state["grad_avg"] = _ops.full(list(p.shape), 0, p.dtype, p.device)
        return state

    def step(self, closure=None):
        loss = self._run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self._state(p, group)
                    state["step"] += 1
                    grad = -p.grad if group["maximize"] else p.grad
                    if group["weight_decay"] != 0:
                        grad = grad.add(p, alpha=group["weight_decay"])
                    square_avg = state["square_avg"]
                    square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                    if group["centered"]:
                        grad_avg = state["grad_avg"]
                        grad_avg.add_(grad.sub(grad_avg), alpha=1 - alpha)  # lerp toward grad
                        avg = square_avg.clone().addcmul_(grad_avg, grad_avg, value=-1).sqrt()
                    else:
                        avg = square_avg.sqrt()
                    avg = avg.add(eps)
                    if momentum > 0:
                        buf = state["momentum_buffer"]
                        buf.mul_(momentum).addcdiv_(grad, avg)
                        p.add_(buf, alpha=-lr)
                    else:
                        p.addcdiv_(grad, avg, value=-lr)
        return loss
