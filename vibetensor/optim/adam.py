"""Adam (and AdamW through decoupled_weight_decay) with torch's single-tensor update formulas."""
import math

from vibetensor import _C
from vibetensor import _factories
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.optim._checks import check_host_step
from vibetensor.optim.optimizer import Optimizer, _buckets

_ops = _C._ops


def _update_moments(p, exp_avg, exp_avg_sq, group):
    """Weight decay (decoupled: on p; else added to the gradient) and the two moment updates; returns the
    gradient they took (NAdam's update reads it again). Shared by Adam, AdamW, NAdam and RAdam."""
    beta1, beta2 = group["betas"]
    lr, weight_decay = group["lr"], group["weight_decay"]
    grad = p.grad if not group["maximize"] else -p.grad
    if weight_decay != 0:
        if group["decoupled_weight_decay"]:
            p.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(p, alpha=weight_decay)
    # torch: exp_avg.lerp_(grad, 1 - beta1), i.e. exp_avg + (1 - beta1) * (grad - exp_avg).
    exp_avg.add_(grad.sub(exp_avg), alpha=1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    return grad


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if hasattr(lr, "fill_"):  # a tensor lr: the capturable step reads it on the device
            if not capturable:
                raise ValueError("Adam: lr as a Tensor is supported with capturable=True only (the other steps pass "
                                 "lr to their kernels as a number)")
            if lr.numel() != 1:
                raise ValueError(f"Adam: a tensor lr must have one element, got shape {tuple(lr.shape)}")
        elif not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay,
                                      capturable=capturable))
        # foreach=False asks for the per-parameter loop whatever the policy optim.step says.
        self._foreach = foreach
        # fused=True: one vt::_fused_adamw_ call per bucket of parameters (one launch per chunk of
        # tensors on CUDA) instead of ~10 ops per parameter (Note [Multi-tensor optimizer step]).
        self.fused = self._check_fused(fused, foreach, differentiable)
        check_host_step(type(self).__name__, False, differentiable)  # differentiable refused, not ignored

    def _init_state(self, p, amsgrad, capturable=False):
        state = self.state[p]
        # The step counter is a CPU float32 tensor, as torch keeps it, or with capturable a 0-d
        # tensor on the parameter's device (Note [Capturable Adam]).
        state["step"] = _ops.full([], 0, _C.dtype.float32, p.device) if capturable else _factories.tensor(0.0)
        state["exp_avg"] = _ops.full(list(p.shape), 0, p.dtype, p.device)
        state["exp_avg_sq"] = _ops.full(list(p.shape), 0, p.dtype, p.device)
        if amsgrad:
            state["max_exp_avg_sq"] = _ops.full(list(p.shape), 0, p.dtype, p.device)
        return state

    # Note [Capturable Adam]
    # With capturable=True (as torch's flag) nothing of the step reads the host: the step count is a
    # device tensor that the step increments, and the bias corrections 1 - beta^step are computed
    # from it on the device (exp(step * log(beta))), so a step captured into a CUDA graph
    # (vt.cuda.graphed_step, Note [Whole-step capture]) advances them on every replay. The update is
    # the multi-tensor op vt::_fused_adamw_capturable_ where the group takes the multi-tensor step (fused,
    # or optim.step=multi_tensor) and lr is a number (Note [Capturable multi-tensor Adam]), else the
    # per-parameter one with device-tensor step sizes. betas, eps and weight_decay are read at capture and
    # stay fixed; lr too, unless it is a one-element device tensor, which LR schedulers then update in
    # place between replays (the per-parameter path reads it on the device).
    def _step_capturable(self, group):
        beta1, beta2 = group["betas"]
        lr, eps, amsgrad = group["lr"], group["eps"], group["amsgrad"]
        if self._multi_tensor(group) and not hasattr(lr, "fill_"):  # a tensor lr: the per-parameter path
            return self._step_capturable_multi_tensor(group)
        log_b1 = math.log(beta1) if beta1 > 0 else -math.inf
        log_b2 = math.log(beta2) if beta2 > 0 else -math.inf
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p] or self._init_state(p, amsgrad, capturable=True)
            step_t, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
            self._check_step_device(step_t, p)
            step_t.add_(1)
            _update_moments(p, exp_avg, exp_avg_sq, group)
            bias_correction1 = 1 - (step_t * log_b1).exp()
            bias_correction2_sqrt = (1 - (step_t * log_b2).exp()).sqrt()
            second = exp_avg_sq
            if amsgrad:
                second = state["max_exp_avg_sq"]
                second.copy_(_ops.maximum(second, exp_avg_sq))
            denom = (second.sqrt() / bias_correction2_sqrt).add_(eps)
            p.sub_(exp_avg / denom * (lr / bias_correction1))

    def _step_capturable_multi_tensor(self, group):
        """One vt::_fused_adamw_capturable_ call per (dtype, device) bucket: the step counts stay on the device."""
        rows = []
        for p, state, tensors in self._bucket_rows(group, capturable=True):
            self._check_step_device(state["step"], p)
            rows.append(((p.dtype, str(p.device)), (*tensors, state["step"])))
        beta1, beta2 = group["betas"]
        for lists in _buckets(rows).values():
            *moments, steps = lists
            _ops._fused_adamw_capturable_(*self._moment_lists(group, moments), steps, group["lr"], beta1, beta2,
                                          group["weight_decay"], group["eps"], group["decoupled_weight_decay"],
                                          group["maximize"])

    def _bucket_rows(self, group, capturable=False):
        """(p, state, (p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq or None)) per parameter with a gradient:
        the rows the multi-tensor steps gather into buckets."""
        amsgrad = group["amsgrad"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p] or self._init_state(p, amsgrad, capturable=capturable)
            yield p, state, (p, p.grad.contiguous(), state["exp_avg"], state["exp_avg_sq"],
                             state["max_exp_avg_sq"] if amsgrad else None)

    @staticmethod
    def _moment_lists(group, lists):
        """A bucket's params, grads, exp_avgs, exp_avg_sqs and max_exp_avg_sqs (empty without amsgrad)."""
        params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs = lists
        return params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs if group["amsgrad"] else []

    @staticmethod
    def _check_step_device(step_t, p):
        if step_t.device != p.device:
            raise RuntimeError(f"Adam(capturable=True): the step count of a parameter on {p.device} is on "
                               f"{step_t.device}; expected the parameter's device (state loaded from a "
                               "non-capturable optimizer?)")

    def _multi_tensor(self, group):
        """Whether this group takes the multi-tensor op (Note [Multi-tensor optimizer step]): always
        with fused=True, else as the policy optim.step says unless foreach=False."""
        if self.fused:
            return True
        if self._foreach is False:
            return False
        return _C._policy_get("optim.step") == "multi_tensor"

    def _step_multi_tensor(self, group):
        """One vt::_fused_adamw_ call per (dtype, device, step count) bucket of the group."""
        rows = []
        for p, state, tensors in self._bucket_rows(group):
            state["step"] += 1
            step = state["step"].item()  # a CPU tensor: no device sync
            rows.append(((p.dtype, str(p.device), step), tensors))
        beta1, beta2 = group["betas"]
        for (_, _, step), lists in _buckets(rows).items():
            _ops._fused_adamw_(*self._moment_lists(group, lists), group["lr"], beta1, beta2, group["weight_decay"],
                               group["eps"], step, group["decoupled_weight_decay"], group["maximize"])

    def step(self, closure=None):
        loss = self._run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                if group.get("capturable"):
                    self._step_capturable(group)
                    continue
                if self._multi_tensor(group):
                    self._step_multi_tensor(group)
                    continue
                beta1, beta2 = group["betas"]
                lr, eps, amsgrad = group["lr"], group["eps"], group["amsgrad"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state = self._init_state(p, amsgrad)
                    exp_avg, exp_avg_sq, step_t = state["exp_avg"], state["exp_avg_sq"], state["step"]
                    step_t += 1
                    _update_moments(p, exp_avg, exp_avg_sq, group)
                    step = step_t.item()
                    bias_correction1 = 1 - beta1 ** step
                    bias_correction2 = 1 - beta2 ** step
                    step_size = lr / bias_correction1
                    bias_correction2_sqrt = bias_correction2 ** 0.5
                    if amsgrad:
                        max_sq = state["max_exp_avg_sq"]
                        max_sq.copy_(_ops.maximum(max_sq, exp_avg_sq))
                        denom = (max_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                    else:
                        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
                    p.addcdiv_(exp_avg, denom, value=-step_size)
        return loss
