"""SGD with momentum, dampening, weight decay and Nesterov momentum (torch's single-tensor update)."""
from vibetensor import _C
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.optim._checks import check_host_step
from vibetensor.optim.optimizer import Optimizer, _buckets, required

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
        # fused=True: one vt::_fused_sgd_ call per bucket of parameters (one launch per chunk of
        # tensors on CUDA) instead of 2-5 ops per parameter (Note [Multi-tensor optimizer step]).
        self.fused = self._check_fused(fused, foreach, differentiable)  # torch's error for fused + differentiable
        check_host_step("SGD", False, differentiable)  # refused, not ignored

    def step(self, closure=None):
        loss = self._run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                if self.fused:
                    self._step_fused(group)
                    continue
                lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
                weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
                for p in group["params"]:
                    if p.grad is None:
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

    def _step_fused(self, group):
        """One vt::_fused_sgd_ call per (dtype, device, first step) bucket of the group: on its first
        step a momentum buffer is new and written as the (decayed) gradient, as torch does."""
        momentum = group["momentum"]
        rows, new_buffers = [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            if momentum == 0:
                rows.append(((p.dtype, str(p.device), False), (p, p.grad.contiguous())))
                continue
            buf = self.state[p].get("momentum_buffer")
            first_step = buf is None
            if first_step:
                buf = _ops.empty(list(p.shape), p.dtype, p.device)
                new_buffers.append((p, buf))
            rows.append(((p.dtype, str(p.device), first_step), (p, p.grad.contiguous(), buf)))
        for (_, _, first_step), lists in _buckets(rows).items():
            params, grads, bufs = lists if momentum != 0 else (*lists, [])
            _ops._fused_sgd_(params, grads, bufs, group["lr"], momentum, group["dampening"], group["weight_decay"],
                             group["nesterov"], group["maximize"], first_step)
        for p, buf in new_buffers:  # only once the op has written them
            self.state[p]["momentum_buffer"] = buf
