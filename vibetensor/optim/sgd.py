"""SGD with momentum, dampening, weight decay and Nesterov momentum (torch's single-tensor update)."""
from vibetensor import _C
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.optim.optimizer import Optimizer, required

_ops = _C._ops


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))
        # fused=True: one Triton launch per parameter (kernels/triton_ops.sgd_step) instead of 2-5 ops.
        self.fused = self._check_fused(fused, foreach, differentiable)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
                weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if self.fused:
                        self._fused_step(p, group)
                        continue
                    grad = p.grad if not maximize else -p.grad
                    if weight_decay != 0:
                        grad = grad.add(p, alpha=weight_decay)
                    if momentum != 0:
                        state = self.state[p]
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            buf = _ops.clone(grad.detach())
                            state["momentum_buffer"] = buf
                        else:
                            buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                        grad = grad.add(buf, alpha=momentum) if nesterov else buf
                    p.add_(grad, alpha=-lr)
        return loss

    def _fused_step(self, p, group):
        from vibetensor.kernels import triton_ops

        state = self.state[p]
        buf, first_step = None, False
        if group["momentum"] != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = _ops.empty(list(p.shape), p.dtype, p.device)
                first_step = True
        triton_ops.sgd_step(p, p.grad.contiguous(), buf, lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                            weight_decay=group["weight_decay"], nesterov=group["nesterov"], maximize=group["maximize"],
                            first_step=first_step)
        if first_step:  # only once the kernel has written it
            state["momentum_buffer"] = buf
