"""Optimizer base: param_groups, per-parameter state, zero_grad and state_dict in torch's format."""
import copy
from collections import defaultdict

from vibetensor import _C
from vibetensor import _factories
from vibetensor.autograd.grad_mode import no_grad

Tensor = _C.Tensor

# The devices with kernels of the multi-tensor optimizer ops (fused=True).
_FUSED_DEVICES = ("cpu", "cuda")


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, but "
                            "got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        param_group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def _check_fused(self, fused, foreach, differentiable):
        """torch's fused=True checks. The fused steps are the multi-tensor ops vt::_fused_adamw_ and
        vt::_fused_sgd_ (Note [Multi-tensor optimizer step]), which have CPU and CUDA kernels, so, as in
        torch >= 2.4, every parameter must be a floating point tensor on the CPU or a CUDA device."""
        if not fused:
            return False
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for group in self.param_groups:
            for p in group["params"]:
                if p.device.type not in _FUSED_DEVICES or not p.dtype.is_floating_point:
                    raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported "
                                       f"devices: {list(_FUSED_DEVICES)}; got a {p.dtype} parameter on {p.device}")
        return True

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    with no_grad():
                        p.grad.zero_()

    def step(self, closure=None):
        raise NotImplementedError(f"{type(self).__name__} must implement step()")

    def _lazy_state(self, p, *buffers, **scalars):
        """p's state, made on its first step as torch makes it: "step" and the named scalars as CPU tensors of the
        default dtype (torch keeps them so: no device sync to read them), then a zero tensor like p per buffer."""
        state = self.state[p]
        if not state:
            state["step"] = _factories.tensor(0.0)
            for name, value in scalars.items():
                state[name] = _factories.tensor(value)
            for name in buffers:
                state[name] = _C._ops.full(list(p.shape), 0, p.dtype, p.device)
        return state

    def _params_with_grad(self):
        """(group, parameter) for each parameter that has a gradient, group by group: what a per-parameter step
        updates (one without a gradient is skipped, its state left as it is)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield group, p

    def _run_closure(self, closure):
        if closure is None:
            return None
        from vibetensor.autograd.grad_mode import enable_grad
        with enable_grad():
            return closure()

    # --- state_dict (torch's layout: params referred to by their index across groups) ------

    def state_dict(self):
        index = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {index[id(p)]: v for p, v in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups; the optimizer has "
                             f"{len(self.param_groups)}")
        for i, (mine, saved) in enumerate(zip(self.param_groups, groups)):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict contains a parameter group (index {i}) with "
                                 f"{len(saved['params'])} parameters; the optimizer's group has "
                                 f"{len(mine['params'])}")
        id_map = {}
        for mine, saved in zip(self.param_groups, groups):
            id_map.update(zip(saved["params"], mine["params"]))
        self.state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key not in id_map:
                continue
            p = id_map[key]
            self.state[p] = {k: _cast_state(k, v, p) for k, v in value.items()}
        for mine, saved in zip(self.param_groups, groups):
            params = mine["params"]
            mine.clear()
            mine.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
            mine["params"] = params

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(g):
                if key != "params":
                    lines.append(f"    {key}: {g[key]}")
        lines.append(")")
        return "\n".join(lines)


def _cast_state(key, value, param):
    """A loaded state tensor on the parameter's device; floating state in the parameter's dtype
    (the step counter keeps its own, as torch does)."""
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if key == "step":
        return value.clone()
    if value.dtype.is_floating_point:
        return value.to(device=param.device, dtype=param.dtype, copy=True)
    return value.to(device=param.device, copy=True)


def _buckets(rows):
    """Rows (key, tensors) gathered by key into one list per tensor position: the arguments of one
    multi-tensor op call per bucket (Note [Multi-tensor optimizer step]). Keys name what one call
    must share: the device, the dtype and the step's constants."""
    buckets = {}
    for key, tensors in rows:
        lists = buckets.setdefault(key, tuple([] for _ in tensors))
        for lst, t in zip(lists, tensors):
            lst.append(t)
    return buckets
