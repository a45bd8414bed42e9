"""fused=True: Adam/AdamW/SGD through the multi-tensor ops vt::_fused_adamw_ and vt::_fused_sgd_
(Note [Multi-tensor optimizer step]) on every device, against torch's single-tensor optimizers
(float32, float64) and torch's fused ones (float16, bfloat16: fp32 registers, state in the parameter
dtype) over several steps, one op call per bucket of parameters, and the ops' argument errors."""
import pytest
import torch

import vibetensor as vt
from vibetensor import _C
from harness import assert_close, randn, requires_cuda, to_torch, to_vt

ops = _C._ops

ADAM_CASES = {
    "adam": ("Adam", {"lr": 0.01}),
    "adam_wd": ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    "adam_amsgrad": ("Adam", {"lr": 0.01, "amsgrad": True}),
    "adam_amsgrad_maximize_wd": ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True, "weight_decay": 0.1}),
    "adamw": ("AdamW", {"lr": 0.02, "betas": (0.85, 0.95), "weight_decay": 0.3}),
    "adamw_amsgrad_maximize": ("AdamW", {"lr": 0.02, "amsgrad": True, "maximize": True}),
}
SGD_CASES = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd_wd_maximize": ("SGD", {"lr": 0.1, "weight_decay": 0.05, "maximize": True}),
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd_momentum_dampening_wd": ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    "sgd_nesterov_wd": ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    "sgd_momentum_maximize": ("SGD", {"lr": 0.1, "momentum": 0.9, "maximize": True}),
}
CASES = {**ADAM_CASES, **SGD_CASES}
# one tensor spans several CUDA chunks and OpenMP threads; an empty one launches nothing
SHAPES = [(7, 5), (130001,), (3,), (2, 3, 4), (0,)]
STEPS = 5
# Half precision: like torch's fused optimizers, the ops compute in fp32 registers and keep the
# state in the parameter dtype.
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-6), torch.float64: dict(rtol=1e-12, atol=1e-13),
       torch.float16: dict(rtol=2e-3, atol=2e-3), torch.bfloat16: dict(rtol=1.6e-2, atol=1.6e-2)}


def _grads(dtype, step):
    return [randn(s, dtype, seed=100 * step + i) for i, s in enumerate(SHAPES)]


def _torch_run(cls, kwargs, dtype, steps=STEPS, fused=False):
    params = [torch.nn.Parameter(randn(s, dtype, seed=i)) for i, s in enumerate(SHAPES)]
    opt = getattr(torch.optim, cls)(params, **kwargs, **({"fused": True} if fused else {"foreach": False}))
    for step in range(steps):
        for p, g in zip(params, _grads(dtype, step)):
            p.grad = g
        opt.step()
    return [p.detach() for p in params]


def _vt_run(cls, kwargs, dtype, device, steps=STEPS, fused=True):
    params = [to_vt(randn(s, dtype, seed=i), device, requires_grad=True) for i, s in enumerate(SHAPES)]
    opt = getattr(vt.optim, cls)(params, **kwargs, fused=fused)
    assert opt.fused == fused
    for step in range(steps):
        for p, g in zip(params, _grads(dtype, step)):
            p.grad = to_vt(g, device)
        opt.step()
    return params, opt


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_matches_torch(name, dtype, device):
    cls, kwargs = CASES[name]
    ref = _torch_run(cls, kwargs, dtype)
    got, _ = _vt_run(cls, kwargs, dtype, device)
    for g, r in zip(got, ref):
        assert_close(g, r, **TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", ["adam_amsgrad_maximize_wd", "adamw", "sgd_momentum_dampening_wd", "sgd_nesterov_wd"])
def test_fused_half_precision_matches_torch(name, dtype, device):
    cls, kwargs = CASES[name]
    # Adam: torch's fused Adam, which computes like the op. SGD: torch's single-tensor SGD, which
    # rounds after every op, hence the wider tolerance (torch 2.13's CPU fused SGD in float16 and
    # bfloat16 strays from both by about 1.0 within five steps).
    adam = cls != "SGD"
    try:
        ref = _torch_run(cls, kwargs, dtype, fused=adam)
    except RuntimeError as e:  # torch < 2.4: fused kernels on CUDA only
        pytest.skip(f"torch has no CPU fused {cls} for {dtype}: {e}")
    got, _ = _vt_run(cls, kwargs, dtype, device)
    tol = TOL[dtype] if adam else {k: 4 * v for k, v in TOL[dtype].items()}
    for g, r in zip(got, ref):
        assert_close(g, r, **tol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_matches_the_unfused_loop(name, device):
    cls, kwargs = CASES[name]
    got, fused_opt = _vt_run(cls, kwargs, torch.float32, device)
    loop, loop_opt = _vt_run(cls, kwargs, torch.float32, device, fused=False)
    for g, r in zip(got, loop):
        assert_close(g, to_torch(r), **TOL[torch.float32])
    # the same state, under the same names (state_dict is interchangeable)
    for p, q in zip(fused_opt.param_groups[0]["params"], loop_opt.param_groups[0]["params"]):
        assert sorted(fused_opt.state[p]) == sorted(loop_opt.state[q])
        for key, value in fused_opt.state[p].items():
            assert_close(value, to_torch(loop_opt.state[q][key]), **TOL[torch.float32])


def test_mixed_dtypes_and_step_counts_are_bucketed(device):
    # float32 and float64 parameters in one group, one of them without a gradient on the first
    # step (so its step count lags): each (device, dtype, step) bucket is one op call.
    dtypes = [torch.float32, torch.float64, torch.float32, torch.float64]
    for cls, kwargs in (CASES["adam_amsgrad"], CASES["sgd_momentum"]):
        ts = [torch.nn.Parameter(randn((4, 3), dt, seed=i)) for i, dt in enumerate(dtypes)]
        vs = [to_vt(t, device, requires_grad=True) for t in ts]
        topt = getattr(torch.optim, cls)(ts, **kwargs, foreach=False)
        vopt = getattr(vt.optim, cls)(vs, **kwargs, fused=True)
        for step in range(4):
            for i, (t, v) in enumerate(zip(ts, vs)):
                g = None if step == 0 and i == 1 else randn((4, 3), t.dtype, seed=10 * step + i)
                t.grad = g
                v.grad = None if g is None else to_vt(g, device)
            topt.step()
            vopt.step()
        for t, v in zip(ts, vs):
            assert_close(v, t.detach(), **TOL[t.dtype])


def test_non_contiguous_grad(device):
    t = torch.nn.Parameter(randn((5, 4), seed=0))
    v = to_vt(t, device, requires_grad=True)
    g = randn((4, 5), seed=1)
    t.grad = g.t()
    v.grad = to_vt(g, device).t()
    torch.optim.Adam([t], lr=0.1, foreach=False).step()
    vt.optim.Adam([v], lr=0.1, fused=True).step()
    assert_close(v, t.detach())


def _ops_per_step(cls, kwargs, n_params, device):
    params = [to_vt(randn((4,), seed=i), device, requires_grad=True) for i in range(n_params)]
    opt = getattr(vt.optim, cls)(params, **kwargs, fused=True)
    for p in params:
        p.grad = to_vt(randn((4,), seed=50), device)
    with vt.policy.override({"probes.counters": "on"}):
        opt.step()  # the first step creates the state
        _C._reset_counters()
        opt.step()
        return dict(_C._counters())["ops_dispatched"]


def test_one_op_call_per_bucket(device):
    assert _ops_per_step("SGD", {"lr": 0.1, "momentum": 0.9}, 10, device) == 1
    # Adam: plus the increment and the read of each parameter's CPU step counter
    assert _ops_per_step("Adam", {"lr": 0.1, "amsgrad": True}, 10, device) == 2 * 10 + 1


def test_fused_ops_bump_versions(device):
    p, g, m, v, v_max = (to_vt(randn((3,), seed=i), device) for i in range(5))
    before = [t._version for t in (p, g, m, v, v_max)]
    ops._fused_adamw_([p], [g], [m], [v], [v_max], 0.1, 0.9, 0.99, 0.0, 1e-8, 1.0, True, False)
    assert [t._version - b for t, b in zip((p, g, m, v, v_max), before)] == [1, 0, 1, 1, 1]
    before = [t._version for t in (p, g, m)]
    ops._fused_sgd_([p], [g], [m], 0.1, 0.9, 0.0, 0.0, False, False, False)
    assert [t._version - b for t, b in zip((p, g, m), before)] == [1, 0, 1]


def _adam(params, grads, m, v, v_max):
    ops._fused_adamw_(params, grads, m, v, v_max, 0.1, 0.9, 0.99, 0.0, 1e-8, 1.0, True, False)


def _sgd(params, grads, bufs, momentum=0.9):
    ops._fused_sgd_(params, grads, bufs, 0.1, momentum, 0.0, 0.0, False, False, False)


def test_op_errors(device):
    a, b = (to_vt(randn((3,), seed=i), device) for i in range(2))
    c = to_vt(randn((4,), seed=2), device)
    d = to_vt(randn((3,), torch.float64, seed=3), device)
    t = to_vt(randn((3, 2), seed=4), device).t()
    i = to_vt(randn((3,), torch.int64, seed=5), device)
    with pytest.raises(ValueError, match=r"_fused_adamw_: expected lists of equal length .*got 1 params, 2 grads"):
        _adam([a], [a, b], [a], [a], [])
    with pytest.raises(ValueError, match="2 max_exp_avg_sqs"):
        _adam([a], [b], [a], [a], [a, b])
    with pytest.raises(ValueError, match=r"exp_avgs\[0\] has shape \[4\] but its parameter has shape \[3\]"):
        _adam([a], [b], [c], [a], [])
    with pytest.raises(TypeError, match=r"expected every tensor to be float32, got float64 at grads\[0\]"):
        _adam([a], [d], [a], [a], [])
    with pytest.raises(RuntimeError, match=r"expected contiguous tensors, params\[0\] is not"):
        _adam([t], [t], [t], [t], [])
    with pytest.raises(TypeError, match="expected floating point parameters, got int64"):
        _adam([i], [i], [i], [i], [])
    with pytest.raises(ValueError, match="_fused_sgd_: expected one momentum buffer per parameter when momentum "
                                         "!= 0, got 0 momentum_buffers for 1 params"):
        _sgd([a], [b], [])
    with pytest.raises(ValueError, match="expected no momentum_buffers when momentum is 0, got 1"):
        _sgd([a], [b], [a], momentum=0.0)
    with pytest.raises(ValueError, match=r"_fused_sgd_: expected lists of equal length .*got 2 params, 1 grads"):
        _sgd([a, b], [b], [a, b])
    with pytest.raises(RuntimeError, match=r"expected contiguous tensors, momentum_buffers\[0\] is not"):
        _sgd([t.contiguous()], [t.contiguous()], [t])
    with pytest.raises(TypeError, match="a sequence of Tensors"):
        _sgd([a], [None], [a])
    _sgd([], [], [])  # empty lists: nothing to do
    _adam([], [], [], [], [])


@requires_cuda
def test_op_rejects_mixed_devices():
    a, b = vt.zeros(3, device="cuda"), vt.zeros(3)
    with pytest.raises(RuntimeError, match=r"expected every tensor on cuda.*, got cpu at grads\[0\]"):
        _adam([a], [b], [a], [a], [])
    with pytest.raises(RuntimeError, match=r"expected every tensor on cuda.*, got cpu at momentum_buffers\[0\]"):
        _sgd([a], [a], [b])

