"""The kernel suite's "optim" family on a GPU (kernels/triton/optim.py, Note [Chunk table] in
csrc/ops/suite/chunk_table.h): with kernels.backend=triton, vt::_fused_adamw_ and vt::_fused_sgd_ (fused=True
optimizers) run one Triton launch per step over every parameter of a bucket, read through a chunk table
cached on the device, and match torch.optim's single-tensor steps and vibetensor's native multi-tensor
kernels; a step captured in a CUDA graph after eager warm-up replays the same weights; float64 falls back
with a reason. Skipped without a GPU or Triton."""
import pytest
import torch

import vibetensor as vt

from cuda_util import requires_gpu
from harness import to_torch

triton = pytest.importorskip("triton")

from vibetensor.kernels import suite  # noqa: E402
from suite_util import fallbacks, launches, triton_backend  # noqa: E402

pytestmark = requires_gpu
# a matrix of several 16384-element chunks (one ragged), a vector, a one-element bias, an empty one
SHAPES = [(300, 130), (257,), (1,), (0, 8)]
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-6), torch.bfloat16: dict(rtol=1e-2, atol=1e-2)}


def _setup(dtype, seed):
    g = torch.Generator().manual_seed(seed)
    values = [torch.randn(s, generator=g, dtype=torch.float32).to(dtype) for s in SHAPES]
    grads = [[torch.randn(s, generator=g, dtype=torch.float32).to(dtype) for s in SHAPES] for _ in range(4)]
    return values, grads


def _vt_params(values):
    return [vt.tensor(v.float().numpy(), device="cuda").to(getattr(vt, str(v.dtype).split(".")[1])).requires_grad_()
            for v in values]


def _run_vt(cls, opts, values, grads):
    params = _vt_params(values)
    opt = cls(params, fused=True, **opts)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = vt.tensor(g.float().numpy(), device="cuda").to(p.dtype)
        opt.step()
    return [to_torch(p.detach()) for p in params]


def _run_torch(cls, opts, values, grads):
    wide = (lambda t: t.double()) if values[0].dtype == torch.float64 else (lambda t: t.float())
    params = [wide(v).clone().requires_grad_() for v in values]
    opt = cls(params, foreach=False, **opts)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = wide(g)
        opt.step()
    return [p.detach() for p in params]


CASES = {
    "adamw": (vt.optim.AdamW, torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.1)),
    "adam_l2_amsgrad": (vt.optim.Adam, torch.optim.Adam, dict(lr=1e-2, weight_decay=0.01, amsgrad=True)),
    "sgd_nesterov": (vt.optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "sgd_plain": (vt.optim.SGD, torch.optim.SGD, dict(lr=0.1)),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("case", list(CASES))
def test_fused_steps_match_torch_and_native(case, dtype):
    vt_cls, torch_cls, opts = CASES[case]
    values, grads = _setup(dtype, seed=len(case))
    if dtype == torch.bfloat16:
        grads = grads[:1]  # bf16 state rounds each step; one step compares the update itself
    with triton_backend():
        got = _run_vt(vt_cls, opts, values, grads)
        assert launches("optim") == len(grads) and not fallbacks("optim"), suite.report()
    with vt.policy.override({"kernels.backend": "native"}):
        native = _run_vt(vt_cls, opts, values, grads)
    expected = _run_torch(torch_cls, opts, values, grads)
    for i, (a, b, e) in enumerate(zip(got, native, expected)):
        torch.testing.assert_close(a.float(), b.float(), **TOL[dtype], msg=lambda m: f"param {i} against native: {m}")
        torch.testing.assert_close(a.float(), e, **TOL[dtype], msg=lambda m: f"param {i} against torch: {m}")


def test_captured_optimizer_step_replays_the_eager_weights():
    """The chunk table is uploaded during the eager warm-up and cached, so the captured step launches the
    same kernel on it; replays then match an eager twin step for step. SGD with momentum: its step reads
    nothing from the host after the first (a fused Adam reads its step count there and is refused under
    capture: capturable=True is its captured form)."""
    values, grads = _setup(torch.float32, seed=7)
    with triton_backend():
        twins = [_vt_params(values) for _ in range(2)]
        opts = [vt.optim.SGD(ps, lr=1e-2, momentum=0.9, weight_decay=0.1, fused=True) for ps in twins]
        x = vt.randn(300, device="cuda")

        def step(params, opt):
            opt.zero_grad(set_to_none=False)
            loss = (params[0].sum(1) * x).sum() + params[1].square().sum() + params[2].sum()
            loss.backward()
            opt.step()
            return loss

        for p in twins[0]:  # zero_grad(set_to_none=False) needs grads to exist before the capture
            p.grad = vt.zeros_like(p)
        graphed = vt.cuda.graphed_step(lambda: step(twins[0], opts[0]), warmup=2)
        eager = [step(twins[1], opts[1]).item() for _ in range(6)]
        replayed = [graphed().item() for _ in range(6)]
        # within 1e-6 relative: the loss's reductions may take another vector path on the graph pool's addresses
        assert graphed.captures == 1
        assert all(abs(r - e) <= 1e-6 * abs(e) for r, e in zip(replayed, eager)), (replayed, eager)
        assert not fallbacks("optim"), suite.report()
    for a, b in zip(twins[0], twins[1]):
        torch.testing.assert_close(to_torch(a.detach()), to_torch(b.detach()), rtol=1e-6, atol=1e-6)


def test_float64_falls_back_with_a_reason():
    values, grads = _setup(torch.float64, seed=3)
    with triton_backend():
        got = _run_vt(vt.optim.AdamW, dict(lr=1e-2), values, grads[:1])
        assert launches("optim") == 0 and any("float64" in r for r in fallbacks("optim")), suite.report()
    expected = _run_torch(torch.optim.AdamW, dict(lr=1e-2), values, grads[:1])
    for a, e in zip(got, expected):
        torch.testing.assert_close(a, e)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("max_norm", [0.5, 1e9])
def test_clip_grad_norm_matches_torch_and_native(dtype, max_norm):
    """Under optim.step=multi_tensor, clip_grad_norm_ is vt::_fused_clip_grad_norm_: with kernels.backend=triton
    the optim family's three launches (sumsq_multi, clip_coef, scale_multi), else the native kernels; both give
    torch's norm and scaled gradients (Note [Multi-tensor gradient clipping])."""
    _, grads = _setup(dtype, seed=31)
    step_grads = [g * 4 for g in grads[0]]

    def run():
        params = _vt_params([torch.zeros_like(g) for g in step_grads])
        for p, g in zip(params, step_grads):
            p.grad = vt.tensor(g.float().numpy(), device="cuda").to(p.dtype)
        with vt.policy.override({"optim.step": "multi_tensor"}):
            total = vt.nn.utils.clip_grad_norm_(params, max_norm)
        return to_torch(total).float(), [to_torch(p.grad).float() for p in params]

    with triton_backend():
        got = run()
        assert launches("optim") == 3 and not fallbacks("optim"), suite.report()
    with vt.policy.override({"kernels.backend": "native"}):
        native = run()
    ref = [torch.nn.Parameter(torch.zeros_like(g).float()) for g in step_grads]
    for r, g in zip(ref, step_grads):
        r.grad = g.float()
    total = torch.nn.utils.clip_grad_norm_(ref, max_norm)
    # the returned norm has the gradients' dtype, as torch's (a bf16 norm is rounded to bf16)
    torch.testing.assert_close(got[0], total.to(dtype).float(), **TOL[dtype])
    torch.testing.assert_close(native[0], total.to(dtype).float(), **TOL[dtype])
    for a, b, r in zip(got[1], native[1], ref):
        torch.testing.assert_close(a, r.grad, **TOL[dtype])
        torch.testing.assert_close(b, r.grad, **TOL[dtype])
