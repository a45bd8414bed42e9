"""The multi-tensor Adam/AdamW step on CUDA (vt::_fused_adamw_): equal to torch's single-tensor
AdamW (float32) or torch's fused AdamW (float16/bfloat16: the same arithmetic, fp32 registers and
half-precision state) and to the per-parameter loop, across chunk and launch boundaries."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from cuda_util import requires_gpu

pytestmark = requires_gpu


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
def test_multi_tensor_adamw_matches_torch(dtype_name):
    rng = np.random.default_rng(0)
    # 40 tensors (more than one launch's 36 slots) and one of 700k elements (several chunks).
    shapes = [(3, 5)] * 39 + [(700_001,)]

    def rounded(a):  # the values a half-precision run starts from, as float32
        return torch.tensor(a).to(getattr(torch, dtype_name)).float().numpy()

    arrays = [rounded(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    grads = [rounded(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    half = dtype_name != "float32"
    if half and dev != "cuda":
        pytest.skip("the half-precision reference is torch's fused AdamW, which needs torch with CUDA")
    # float32: torch's single-tensor AdamW. Half precision: torch's fused AdamW, which like the
    # multi-tensor op computes in float32 registers and keeps the state in the parameter dtype
    # (the per-op half path rounds every intermediate, and a float32 run keeps float32 state).
    ref = _train(torch, dev, arrays, grads, getattr(torch, dtype_name), fused=half)
    with vt.policy.override({"optim.step": "multi_tensor"}):
        got = _train(vt, "cuda", arrays, grads, getattr(vt, dtype_name))
    tol = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 1.6e-2}[dtype_name]
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol)
    if dtype_name == "float32":
        with vt.policy.override({"optim.step": "per_param"}):
            loop = _train(vt, "cuda", arrays, grads, vt.float32)
        for g, l in zip(got, loop):
            np.testing.assert_allclose(g, l, rtol=1e-5, atol=1e-6)


def test_multi_tensor_rejects_mixed_devices():
    a, b = vt.zeros(3, device="cuda"), vt.zeros(3)
    with pytest.raises(RuntimeError, match="expected every tensor on"):
        vt._C._ops._fused_adamw_([a], [b], [a], [a], [], 0.1, 0.9, 0.99, 0.0, 1e-8, 1.0, True, False)
