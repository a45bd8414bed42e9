"""optim.step: the multi-tensor Adam/AdamW op (vt::_fused_adamw_) against the per-parameter loop and
torch on every device (float32, and on CUDA float16/bfloat16 against torch's fused AdamW, across chunk
and launch boundaries), the policy observed through the ops-dispatched counter, and the op's errors."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from vibetensor import _C

from harness import CUDA_ONLY

CASES = {
    "adam": ("Adam", {"lr": 0.01}),
    "adam_wd_maximize": ("Adam", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    "adamw": ("AdamW", {"lr": 0.02, "betas": (0.85, 0.95), "weight_decay": 0.3}),
}


def _params(lib, arrays):
    return [lib.tensor(a.copy(), requires_grad=True) for a in arrays]


def _run(lib, arrays, grads, cls, kwargs, steps):
    params = _params(lib, arrays)
    opt = getattr(lib.optim, cls)(params, **kwargs, **({"foreach": False} if lib is torch else {}))
    for s in range(steps):
        for p, g in zip(params, grads):
            p.grad = lib.tensor((g * (s + 1)).astype(np.float32))
        opt.step()
    return [np.asarray(p.detach().numpy() if lib is torch else p.detach().numpy()) for p in params]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("mode", ["multi_tensor", "per_param"])
def test_trajectory_matches_torch(name, mode):
    rng = np.random.default_rng(3)
    shapes = [(7, 5), (130001,), (3,), (2, 3, 4)]  # one tensor spans several CUDA chunks
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    cls, kwargs = CASES[name]
    ref = _run(torch, arrays, grads, cls, kwargs, 6)
    with vt.policy.override({"optim.step": mode}):
        got = _run(vt, arrays, grads, cls, kwargs, 6)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-6, atol=1e-7)


def _ops_per_step(mode, n_params):
    params = [vt.zeros(4, requires_grad=True) for _ in range(n_params)]
    opt = vt.optim.AdamW(params, lr=0.1)
    for p in params:
        p.grad = vt.ones(4)
    with vt.policy.override({"optim.step": mode, "probes.counters": "on"}):
        opt.step()  # the first step creates the state
        _C._reset_counters()
        opt.step()
        return dict(_C._counters())["ops_dispatched"]


def test_policy_observed_in_ops_dispatched():
    # multi_tensor: one op per group (plus a CPU step-counter increment per parameter); per_param:
    # about nine elementwise ops per parameter.
    multi, per_param = _ops_per_step("multi_tensor", 10), _ops_per_step("per_param", 10)
    assert multi <= 10 * 2 + 1
    assert per_param >= 10 * 7
    assert per_param > 3 * multi


def test_foreach_false_forces_the_per_parameter_loop():
    params = [vt.zeros(4, requires_grad=True)]
    opt = vt.optim.Adam(params, lr=0.1, foreach=False)
    params[0].grad = vt.ones(4)
    with vt.policy.override({"optim.step": "multi_tensor", "probes.counters": "on"}):
        opt.step()
        _C._reset_counters()
        opt.step()
        assert dict(_C._counters())["ops_dispatched"] >= 7


def test_fused_op_errors():
    a, b = vt.zeros(3), vt.zeros(4)
    with pytest.raises(ValueError, match="equal length"):
        _C._ops._fused_adamw_([a], [a, a], [a], [a], [], 0.1, 0.9, 0.99, 0.0, 1e-8, 1.0, True, False)
    with pytest.raises(ValueError, match="shape"):
        _C._ops._fused_adamw_([a], [b], [a], [a], [], 0.1, 0.9, 0.99, 0.0, 1e-8, 1.0, True, False)
    with pytest.raises(TypeError, match="float32"):
        _C._ops._fused_adamw_([a], [vt.zeros(3, dtype=vt.float64)], [a], [a], [], 0.1, 0.9, 0.99, 0.0, 1e-8, 1.0,
                              True, False)
    with pytest.raises(RuntimeError, match="contiguous"):
        m = vt.zeros(3, 2).t()
        _C._ops._fused_adamw_([m], [m], [m], [m], [], 0.1, 0.9, 0.99, 0.0, 1e-8, 1.0, True, False)


def _train(lib, device, arrays, grads, dtype, fused=False, steps=4):
    params = [lib.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in arrays]
    kwargs = {"lr": 0.01, "betas": (0.9, 0.95), "weight_decay": 0.1}
    if lib.__name__ == "torch":
        kwargs.update(fused=True) if fused else kwargs.update(foreach=False)
    opt = lib.optim.AdamW(params, **kwargs)
    for s in range(steps):
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g * (s + 1), dtype=dtype, device=device)
        opt.step()
    return [p.detach().to("cpu").float().numpy() if lib.__name__ == "torch" else
            np.asarray(p.detach().cpu().float().numpy()) for p in params]


@pytest.mark.parametrize("dtype_name", ["float32", "float16", "bfloat16"])
def test_multi_tensor_adamw_matches_torch_in_every_dtype(device, dtype_name):
    rng = np.random.default_rng(0)
    # 40 tensors (more than one launch's 36 slots) and one of 700k elements (several chunks).
    shapes = [(3, 5)] * 39 + [(700_001,)]

    def rounded(a):  # the values a half-precision run starts from, as float32
        return torch.tensor(a).to(getattr(torch, dtype_name)).float().numpy()

    arrays = [rounded(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    grads = [rounded(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    # the reference runs on torch's GPU when it has one (torch's fused AdamW for half precision)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    half = dtype_name != "float32"
    if half and dev != "cuda":
        pytest.skip("the half-precision reference is torch's fused AdamW, which needs torch with CUDA")
    # float32: torch's single-tensor AdamW. Half precision: torch's fused AdamW, which like the
    # multi-tensor op computes in float32 registers and keeps the state in the parameter dtype
    # (the per-op half path rounds every intermediate, and a float32 run keeps float32 state).
    ref = _train(torch, dev, arrays, grads, getattr(torch, dtype_name), fused=half)
    with vt.policy.override({"optim.step": "multi_tensor"}):
        got = _train(vt, device, arrays, grads, getattr(vt, dtype_name))
    tol = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 1.6e-2}[dtype_name]
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol)
    if dtype_name == "float32":
        with vt.policy.override({"optim.step": "per_param"}):
            loop = _train(vt, device, arrays, grads, vt.float32)
        for g, l in zip(got, loop):
            np.testing.assert_allclose(g, l, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_multi_tensor_rejects_mixed_devices(device):
    a, b = vt.zeros(3, device=device), vt.zeros(3)
    with pytest.raises(RuntimeError, match="expected every tensor on"):
        vt._C._ops._fused_adamw_([a], [b], [a], [a], [], 0.1, 0.9, 0.99, 0.0, 1e-8, 1.0, True, False)
