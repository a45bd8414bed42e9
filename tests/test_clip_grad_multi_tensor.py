"""clip_grad_norm_ under optim.step: the multi-tensor op vt::_fused_clip_grad_norm_ (Note [Multi-tensor
gradient clipping] in csrc/ops/optim/clip_grad_norm.h) against torch's clip_grad_norm_ and vibetensor's
per-tensor path on every device: gradients across the CUDA launcher's chunk and launch boundaries, an empty
one, clipping and not, non-finite norms, the returned norm's dtype; the policy observed through the
ops-dispatched counter, and the op's errors."""
import math

import numpy as np
import pytest
import torch

import vibetensor as vt
from vibetensor import _C

from harness import CUDA_ONLY, assert_close, to_torch

# one gradient spans two chunks of the CUDA launcher (65536) and several of the suite's (16384); an empty one
SHAPES = [(3, 4), (70001,), (0, 3), (1,), (40, 33)]
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12),
       "bfloat16": dict(rtol=1e-2, atol=1e-2)}


def _grads(seed, scale=3.0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(s) * scale).astype(np.float32) for s in SHAPES]


def _vt_params(grads, device, dtype):
    params = []
    for g in grads:
        p = vt.nn.Parameter(vt.zeros(*g.shape, device=device).to(getattr(vt, dtype)))
        p.grad = vt.tensor(g, device=device).to(getattr(vt, dtype))
        params.append(p)
    return params


def _torch_params(grads, dtype):
    params = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros(*g.shape, dtype=getattr(torch, dtype)))
        p.grad = torch.tensor(g).to(getattr(torch, dtype))
        params.append(p)
    return params


@pytest.mark.parametrize("mode", ["multi_tensor", "per_param"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("max_norm", [1.0, 1e9])  # clips; leaves the gradients as they are
def test_matches_torch(device, mode, dtype, max_norm):
    grads = _grads(seed=len(dtype))
    ps, tps = _vt_params(grads, device, dtype), _torch_params(grads, dtype)
    with vt.policy.override({"optim.step": mode}):
        total = vt.nn.utils.clip_grad_norm_(ps, max_norm)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm)
    assert total.dtype == getattr(vt, dtype) and tuple(total.shape) == ()
    assert total.device == ps[0].device
    assert_close(total, ttotal, **TOL[dtype])
    for p, tp in zip(ps, tps):
        assert_close(p.grad, tp.grad, **TOL[dtype])


def test_leaves_gradients_bitwise_when_not_clipping(device):
    grads = _grads(seed=5)
    ps = _vt_params(grads, device, "float32")
    with vt.policy.override({"optim.step": "multi_tensor"}):
        vt.nn.utils.clip_grad_norm_(ps, 1e9)
    for p, g in zip(ps, grads):
        np.testing.assert_array_equal(to_torch(p.grad).numpy(), g)


def test_multi_tensor_and_per_param_agree(device):
    grads = _grads(seed=7)
    results = {}
    for mode in ("multi_tensor", "per_param"):
        ps = _vt_params(grads, device, "float32")
        with vt.policy.override({"optim.step": mode}):
            total = vt.nn.utils.clip_grad_norm_(ps, 0.5)
        results[mode] = (total.item(), [to_torch(p.grad) for p in ps])
    assert math.isclose(results["multi_tensor"][0], results["per_param"][0], rel_tol=1e-6)
    for a, b in zip(results["multi_tensor"][1], results["per_param"][1]):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_non_finite_norm_scales_as_torch(device, bad):
    grads = _grads(seed=11)
    grads[0][1, 2] = bad
    ps, tps = _vt_params(grads, device, "float32"), _torch_params(grads, "float32")
    with vt.policy.override({"optim.step": "multi_tensor"}):
        total = vt.nn.utils.clip_grad_norm_(ps, 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 1.0)
    assert_close(total, ttotal, equal_nan=True)
    for p, tp in zip(ps, tps):
        assert_close(p.grad, tp.grad, equal_nan=True)


def test_error_if_nonfinite_raises_before_scaling(device):
    grads = _grads(seed=13)
    grads[1][5] = math.inf
    ps = _vt_params(grads, device, "float32")
    with vt.policy.override({"optim.step": "multi_tensor"}), pytest.raises(RuntimeError, match="non-finite"):
        vt.nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(to_torch(ps[0].grad).numpy(), grads[0])


def test_bumps_versions(device):
    ps = _vt_params(_grads(seed=17), device, "float32")
    before = [p.grad._version for p in ps]
    with vt.policy.override({"optim.step": "multi_tensor"}):
        vt.nn.utils.clip_grad_norm_(ps, 0.1)
    assert all(p.grad._version > b for p, b in zip(ps, before))


def _ops_per_clip(mode, n_params):
    params = _vt_params([np.ones((4,), np.float32)] * n_params, "cpu", "float32")
    with vt.policy.override({"optim.step": mode, "probes.counters": "on"}):
        _C._reset_counters()
        vt.nn.utils.clip_grad_norm_(params, 0.5)
        return dict(_C._counters())["ops_dispatched"]


def test_policy_observed_in_ops_dispatched():
    # multi_tensor: the one op; per_param: a norm and a multiply per gradient, and the joint norm's ops
    multi, per_param = _ops_per_clip("multi_tensor", 10), _ops_per_clip("per_param", 10)
    assert multi <= 2
    assert per_param >= 2 * 10


def test_other_norms_and_mixed_dtypes_take_the_per_tensor_path():
    for norm_type, dtypes in ((1.0, ("float32", "float32")), (2.0, ("float32", "float64"))):
        params = [vt.nn.Parameter(vt.zeros(3).to(getattr(vt, d))) for d in dtypes]
        for p in params:
            p.grad = vt.ones(3).to(p.dtype) * 2
        with vt.policy.override({"optim.step": "multi_tensor", "probes.counters": "on"}):
            _C._reset_counters()
            vt.nn.utils.clip_grad_norm_(params, 0.5, norm_type)
            assert dict(_C._counters())["ops_dispatched"] > 2


def test_op_errors(device):
    op = _C._ops._fused_clip_grad_norm_
    a = vt.ones(3, device=device)
    with pytest.raises(TypeError, match="expected every gradient to be float32, got float64 at grads\\[1\\]"):
        op([a, vt.ones(3, device=device).to(vt.float64)], 1.0)
    with pytest.raises(TypeError, match="expected floating point gradients, got int64"):
        op([vt.ones(3, device=device).to(vt.int64)], 1.0)
    with pytest.raises(RuntimeError, match="expected contiguous gradients, grads\\[0\\] is not"):
        op([vt.ones(3, 4, device=device).t()], 1.0)
    with pytest.raises(ValueError, match="max_norm that is a number"):
        op([a], math.nan)


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_op_rejects_mixed_devices(device):
    with pytest.raises(RuntimeError, match=r"(?s)cuda.*cpu|cpu.*cuda"):
        _C._ops._fused_clip_grad_norm_([vt.ones(3, device="cuda"), vt.ones(3)], 1.0)
