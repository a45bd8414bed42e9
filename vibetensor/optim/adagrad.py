"""Adagrad with torch's single-tensor update (lr decay, weight decay, initial accumulator, maximize)."""
from vibetensor import _C
from vibetensor import _factories
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.optim._checks import check_host_step, check_nonnegative
from vibetensor.optim.optimizer import Optimizer

_ops = _C._ops


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_host_step("Adagrad", False, differentiable)  # refused, not ignored
        check_nonnegative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                          initial_accumulator_value=initial_accumulator_value, epsilon=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        for group in self.param_groups:  # torch fills the state at construction
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _factories.tensor(0.0)
                state["sum"] = _ops.full(list(p.shape), group["initial_accumulator_value"], p.dtype, p.device)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    state["step"] += 1
                    step = state["step"].item()
                    grad = -p.grad if group["maximize"] else p.grad
                    if group["weight_decay"] != 0:
                        grad = grad.add(p, alpha=group["weight_decay"])
                    clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
                    state["sum"].addcmul_(grad, grad, value=1)
                    p.addcdiv_(grad, state["sum"].sqrt().add(group["eps"]), value=-clr)
        return loss
