"""Triton kernels launched through the kernel cache (vibetensor.kernels.triton_ops): the fused
optimizer steps equal the unfused optimizers over several steps, rms_norm matches torch, and
launches hit the cache under both kernels.cache mechanisms. Skipped without a GPU or without Triton."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from vibetensor import _C
from vibetensor.kernels import cache as kcache
from vibetensor.kernels import triton_ops, triton_runtime

from cuda_util import cuda, from_torch, requires_gpu, to_numpy
from harness import to_torch

pytestmark = [requires_gpu,
              pytest.mark.skipif(triton_runtime.triton is None, reason="Triton is not installed")]

DTYPES = ["float32", "float16", "bfloat16"]
# the fused kernels compute in float32 where the unfused path rounds after every op
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float16": dict(rtol=2e-3, atol=2e-3),
       "bfloat16": dict(rtol=2e-2, atol=2e-2)}


@pytest.fixture(autouse=True)
def restore():
    with vt.policy.override({}):
        yield
    _C._reset_counters()
    _C._reset_lock_stats()


def make_params(dtype, seed):
    g = torch.Generator().manual_seed(seed)
    shapes = [(37, 19), (1025,), (3, 4, 5), (0,)]
    return [torch.randn(s, generator=g).to(getattr(torch, dtype)) for s in shapes]


def to_params(ts):
    return [vt.nn.Parameter(from_torch(t)) for t in ts]


def run(opt_cls, kwargs, dtype, fused, steps=4):
    params = to_params(make_params(dtype, 0))
    opt = opt_cls(params, fused=fused, **_eps_for(opt_cls, dtype, kwargs))
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        for p in params:
            p.grad = from_torch(torch.randn(tuple(p.shape), generator=g).to(getattr(torch, dtype)))
        opt.step()
    return [to_numpy(p.to(vt.float32)) for p in params], opt


def _eps_for(opt_cls, dtype, kwargs):
    if dtype == "float16" and opt_cls is not vt.optim.SGD:
        # the unfused fp16 path rounds eps=1e-8 to 0 and divides by zero where v underflows
        return {"eps": 1e-3, **kwargs}
    return kwargs


def run_triton(opt_cls, kwargs, dtype, steps=4):
    """run()'s twin through the Triton kernels: one triton_ops.adam_step / sgd_step launch per
    parameter and step (the optimizer only holds the hyperparameters)."""
    params = to_params(make_params(dtype, 0))
    group = opt_cls(params, **_eps_for(opt_cls, dtype, kwargs)).param_groups[0]
    state = {}
    g = torch.Generator().manual_seed(1)
    for step in range(1, steps + 1):
        for i, p in enumerate(params):
            p.grad = from_torch(torch.randn(tuple(p.shape), generator=g).to(getattr(torch, dtype)))
            if opt_cls is vt.optim.SGD:
                first_step = group["momentum"] != 0 and i not in state
                buf = state.setdefault(i, _C._ops.empty(list(p.shape), p.dtype, p.device))
                triton_ops.sgd_step(p, p.grad, buf, lr=group["lr"], momentum=group["momentum"],
                                    dampening=group["dampening"], weight_decay=group["weight_decay"],
                                    nesterov=group["nesterov"], maximize=group["maximize"], first_step=first_step)
                continue
            m, v, v_max = state.setdefault(i, [_C._ops.full(list(p.shape), 0, p.dtype, p.device) for _ in range(3)])
            beta1, beta2 = group["betas"]
            triton_ops.adam_step(p, p.grad, m, v, lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                                 weight_decay=group["weight_decay"], step=step,
                                 decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"],
                                 max_exp_avg_sq=v_max if group["amsgrad"] else None)
    return [to_numpy(p.to(vt.float32)) for p in params]


ADAM_CONFIGS = [
    (vt.optim.AdamW, dict(lr=1e-2, weight_decay=0.1)),
    (vt.optim.Adam, dict(lr=1e-2, weight_decay=0.1)),
    (vt.optim.Adam, dict(lr=1e-2, amsgrad=True, maximize=True)),
    (vt.optim.SGD, dict(lr=0.1)),
    (vt.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    (vt.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, maximize=True)),
    (vt.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", range(len(ADAM_CONFIGS)))
def test_triton_step_equals_unfused(cfg, dtype):
    opt_cls, kwargs = ADAM_CONFIGS[cfg]
    # The unfused amsgrad path rounds every intermediate to fp16 (sqrt of an underflowing
    # max_exp_avg_sq): the fused kernel, which computes in fp32, is checked against fp32 there.
    half_amsgrad = dtype == "float16" and kwargs.get("amsgrad")
    ref, _ = run(opt_cls, kwargs, "float32" if half_amsgrad else dtype, fused=None)
    got = run_triton(opt_cls, kwargs, dtype)
    tol = dict(rtol=1e-2, atol=1e-2) if half_amsgrad else TOL[dtype]
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, **tol)


def test_fused_adamw_matches_torch():
    ts = make_params("float32", 0)[:3]
    ref = [torch.nn.Parameter(t.clone()) for t in ts]
    params = to_params(ts)
    topt = torch.optim.AdamW(ref, lr=1e-2, weight_decay=0.1)
    opt = vt.optim.AdamW(params, lr=1e-2, weight_decay=0.1, fused=True)
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        for p, r in zip(params, ref):
            grad = torch.randn(tuple(r.shape), generator=g)
            r.grad = grad.clone()
            p.grad = from_torch(grad)
        topt.step()
        opt.step()
    for p, r in zip(params, ref):
        np.testing.assert_allclose(to_numpy(p), r.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mechanism", ["lockfree", "locked"])
def test_launches_hit_the_cache(mechanism):
    _C._policy_apply(f"kernels.cache={mechanism},probes.counters=on,probes.locks=on")
    _C._reset_counters()
    _C._reset_lock_stats()
    steps = 5
    run_triton(vt.optim.SGD, dict(lr=0.1, momentum=0.9), "float32", steps=steps)
    c = dict(_C._counters())
    launches = 3 * steps  # the empty parameter launches nothing
    assert c["kernel_cache_hits"] + c["kernel_cache_misses"] == launches
    # specializations: first step (buffer written) and later steps; compiled at most once each
    assert c["kernel_compiles"] <= 2 and c["kernel_cache_hits"] >= launches - 2
    lock = next(r for r in _C._lock_stats() if r["name"] == kcache.LOCK_NAME)
    assert lock["acquisitions"] == (launches if mechanism == "locked" else 0)


def test_launch_uses_the_current_vibetensor_stream():
    t = make_params("float32", 3)[0]
    p = vt.nn.Parameter(from_torch(t))
    p.grad = from_torch(torch.ones_like(t))
    s = vt.cuda.Stream()
    s.wait_stream(vt.cuda.current_stream())
    with s:
        triton_ops.sgd_step(p, p.grad, None, lr=0.5, momentum=0, dampening=0, weight_decay=0, nesterov=False)
    vt.cuda.current_stream().wait_stream(s)
    np.testing.assert_allclose(to_numpy(p), t.numpy() - 0.5, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 64), (2, 3, 1000), (5, 4097), (0, 8)])
@pytest.mark.parametrize("with_weight", [False, True])
def test_rms_norm_matches_torch(shape, dtype, with_weight):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(shape, generator=g).to(getattr(torch, dtype))
    w = torch.randn(shape[-1:], generator=g).to(getattr(torch, dtype)) if with_weight else None
    ref = torch.nn.functional.rms_norm(x.float(), shape[-1:], None if w is None else w.float(), eps=1e-6)
    got = triton_ops.rms_norm(from_torch(x), shape[-1:], None if w is None else from_torch(w), eps=1e-6)
    assert got.dtype.name == dtype and tuple(got.shape) == shape
    np.testing.assert_allclose(to_torch(got).float().numpy(), ref.numpy(), **TOL[dtype])


def test_rms_norm_non_contiguous_input_and_errors():
    x = torch.randn(64, 32)
    got = triton_ops.rms_norm(from_torch(x).t(), (64,))  # transposed: made contiguous first
    ref = torch.nn.functional.rms_norm(x.t(), (64,))
    np.testing.assert_allclose(to_torch(got).numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="trailing dimensions"):
        triton_ops.rms_norm(from_torch(x), (16,))
    with pytest.raises(TypeError, match="dtype"):
        triton_ops.rms_norm(from_torch(x.double()), (32,))
    with pytest.raises(RuntimeError, match="CUDA tensors"):
        triton_ops.rms_norm(vt.ones(4, 8), (8,))
    xg = from_torch(x)
    xg.requires_grad = True
    with pytest.raises(RuntimeError, match="forward-only"):
        triton_ops.rms_norm(xg, (32,))


def test_fused_step_errors():
    p = _C._ops.full([8], 1.0, None, cuda())
    with pytest.raises(RuntimeError, match="shape"):
        triton_ops.sgd_step(p, _C._ops.full([4], 1.0, None, cuda()), None, lr=0.1, momentum=0, dampening=0,
                            weight_decay=0, nesterov=False)
    with pytest.raises(RuntimeError, match="momentum_buffer"):
        triton_ops.sgd_step(p, p, None, lr=0.1, momentum=0.9, dampening=0, weight_decay=0, nesterov=False)
    with pytest.raises(RuntimeError, match="contiguous"):
        q = _C._ops.full([4, 4], 1.0, None, cuda())
        triton_ops.sgd_step(q.t(), q, None, lr=0.1, momentum=0, dampening=0, weight_decay=0, nesterov=False)
