"""torch.optim.swa_utils: stochastic weight averaging and exponential moving averages of a model's weights
(AveragedModel and its averaging functions), the SWALR schedule, and update_bn (BatchNorm statistics
recomputed for averaged weights)."""
import copy
import math

from vibetensor import _C, _dtype, _factories
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.nn.modules.batchnorm import _BatchNorm
from vibetensor.nn.modules.module import Module
from vibetensor.optim.lr_scheduler import LRScheduler, _per_group
from vibetensor.optim.optimizer import Optimizer

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _lerp_(averaged, current, weight):
    """averaged += weight * (current - averaged) in place, with torch's lerp formula (the form that is exact at
    weight 1 for weights from one half on)."""
    if abs(weight) < 0.5:
        averaged.add_(current - averaged, alpha=weight)
    else:
        averaged.copy_(current - (current - averaged) * (1.0 - weight))


def get_ema_multi_avg_fn(decay=0.999):
    """A multi_avg_fn for AveragedModel: every averaged tensor becomes decay * itself + (1 - decay) * the model's."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        with no_grad():
            if ema_param_list[0].dtype.is_floating_point:
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    _lerp_(p_ema, p_model, 1.0 - decay)
            else:  # integer buffers (use_buffers=True): the float result, truncated back by copy_
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """A multi_avg_fn for AveragedModel: the running mean of every model seen (num_averaged of them so far)."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        with no_grad():
            n = int(num_averaged)  # (a tensor, as AveragedModel passes it, or an int)
            if averaged_param_list[0].dtype.is_floating_point:
                for p_avg, p_model in zip(averaged_param_list, current_param_list):
                    _lerp_(p_avg, p_model, 1.0 / (n + 1))
            else:  # torch's integer addcdiv, which torch refuses
                raise RuntimeError(f"get_swa_multi_avg_fn: cannot average {averaged_param_list[0].dtype} tensors (torch's "
                                   "integer addcdiv is no longer supported); average integer buffers with "
                                   "avg_fn=get_swa_avg_fn(), or leave use_buffers=False")

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """An avg_fn for AveragedModel: decay * averaged + (1 - decay) * current, one tensor at a time."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """An avg_fn for AveragedModel: averaged + (current - averaged) / (num_averaged + 1), one tensor at a time."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _by_device_and_dtype(averaged, current):
    """{(device, dtype): ([averaged tensors], [current tensors])}, in order of first appearance."""
    groups = {}
    for a, c in zip(averaged, current):
        pair = groups.setdefault((str(a.device), a.dtype), ([], []))
        pair[0].append(a)
        pair[1].append(c)
    return groups


class AveragedModel(Module):
    """A copy of `model` whose parameters (and buffers, with use_buffers) are an average of the models passed to
    update_parameters: their running mean by default (SWA), or what avg_fn (one tensor at a time) or multi_avg_fn
    (lists of tensors of one device and dtype) computes. The number averaged so far is the buffer n_averaged;
    the copy is the submodule `module`, so the state dict's keys are n_averaged and module.<model's keys>."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be a vibetensor.nn.Module, got {type(model).__name__}")
        if isinstance(device, int) and not isinstance(device, bool):
            device = _C.device("cuda", device)  # an index names a GPU, as in torch
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _factories.tensor(0, dtype=_dtype.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _averaged_tensors(self, model):
        ours = list(self.module.parameters()) + (list(self.module.buffers()) if self.use_buffers else [])
        theirs = list(model.parameters()) + (list(model.buffers()) if self.use_buffers else [])
        if len(ours) != len(theirs):
            what = "parameters and buffers" if self.use_buffers else "parameters"
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(theirs)} {what}, the averaged copy "
                             f"{len(ours)}; expected a model of the structure it was built from")
        return ours, theirs

    def update_parameters(self, model):
        """Averages model's current parameters (and buffers, with use_buffers) into this copy; the first call copies
        them. Without use_buffers the buffers are copied from model as they are."""
        ours, theirs = self._averaged_tensors(model)
        averaged = [p.detach() for p in ours]
        current = [p.detach().to(a.device) for p, a in zip(theirs, averaged)]
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for a, c in zip(averaged, current):
                    a.copy_(c)
            elif self.avg_fn is not None:
                for a, c in zip(averaged, current):
                    a.copy_(self.avg_fn(a, c, self.n_averaged.to(a.device)))
            else:
                for (device, _), (group_avg, group_cur) in _by_device_and_dtype(averaged, current).items():
                    n_averaged = self.n_averaged.to(group_avg[0].device)
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(group_avg, group_cur, n_averaged)
                    elif group_avg[0].device.type == "cuda" and group_avg[0].dtype.is_floating_point:
                        # torch's foreach (lerp) path; integer buffers take the per-tensor one, where torch raises
                        get_swa_multi_avg_fn()(group_avg, group_cur, n_averaged)
                    else:  # torch's path for devices without foreach kernels (the CPU)
                        swa = get_swa_avg_fn()
                        for a, c in zip(group_avg, group_cur):
                            a.copy_(swa(a, c, n_averaged))
            if not self.use_buffers:
                ours_b, theirs_b = list(self.module.buffers()), list(model.buffers())
                if len(ours_b) != len(theirs_b):
                    raise ValueError(f"AveragedModel.update_parameters: the model has {len(theirs_b)} buffers, the "
                                     f"averaged copy {len(ours_b)}; expected a model of the structure it was built from")
                for b_avg, b_model in zip(ours_b, theirs_b):
                    b_avg.detach().copy_(b_model.detach().to(b_avg.device))
            self.n_averaged.add_(1)


def update_bn(loader, model, device=None):
    """One pass over `loader` (batches are tensors, or lists / tuples whose first item is the input) in training
    mode, so that every BatchNorm's running statistics become the plain average over the data (momentum None),
    as the averaged weights need; then the modules' momenta and the model's training mode are restored."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for input in loader:
                if isinstance(input, (list, tuple)):
                    input = input[0]
                if device is not None:
                    input = input.to(device)
                model(input)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each parameter group's lr to swa_lr (one value, or one per group) over anneal_epochs steps, by
    cosine ("cos") or linear ("linear") interpolation, and keeps it there (torch's recurrence: each step
    interpolates from the lr the previous step would have started from, so it composes with other changes)."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        for lr, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or isinstance(anneal_epochs, bool) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha) for group in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(groups, prev_lrs)]

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)

