"""vt::rotary_embedding (vibetensor.nn.functional.rotary_embedding, Note [Rotary embedding] in
csrc/ops/rotary.h) against the composed formula in torch on every device: the permuted [B, H, T, D] views
a qkv projection gives, other ranks, dtypes and their promotion with cos / sin, the inverse rotation,
gradients of the input and of cos / sin, and bad input. tests/gpu/test_suite_rotary.py runs the Triton
kernel."""
import numpy as np
import pytest
import torch

import vibetensor as vt

from harness import assert_close, check_op, ops, randn, to_torch, to_vt

F = vt.nn.functional


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def tables(T, D, dtype=torch.float32, seed=0):
    angles = torch.rand(T, D // 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 6
    return angles.cos().to(dtype), angles.sin().to(dtype)


@pytest.mark.parametrize("shape", [(2, 3, 5, 32), (1, 4, 17, 64), (3, 1, 1, 2)], ids=str)
def test_matches_the_composed_formula(device, shape):
    x = randn(shape, torch.float32, seed=1).requires_grad_()
    cos, sin = tables(shape[2], shape[3])
    check_op(lambda a: F.rotary_embedding(a, to_vt(cos, device), to_vt(sin, device)), lambda a: rope(a, cos, sin), [x],
             device, dict(rtol=1e-6, atol=1e-6))


def test_permuted_qkv_view(device):
    """q and k as the GPT workloads take them: qkv.view(b, t, 3, h, hd).permute(2, 0, 3, 1, 4)[i]."""
    b, t, h, hd = 2, 9, 3, 16
    qkv = randn((b, t, 3 * h * hd), torch.float32, seed=2)
    cos, sin = tables(t, hd)
    for i in (0, 1):
        ref_in = qkv.view(b, t, 3, h, hd).permute(2, 0, 3, 1, 4)[i].detach().requires_grad_()
        v = ops.select(ops.permute(ops.view(to_vt(qkv, device), [b, t, 3, h, hd]), [2, 0, 3, 1, 4]), 0, i)
        check_op(lambda a: F.rotary_embedding(a, to_vt(cos, device), to_vt(sin, device)), lambda a: rope(a, cos, sin),
                 [ref_in], device, dict(rtol=1e-6, atol=1e-6), vt_inputs=[v])


def test_other_ranks_and_the_inverse(device):
    x = randn((7, 12), torch.float32, seed=3)
    cos, sin = tables(7, 12)
    vx, vc, vs = to_vt(x, device), to_vt(cos, device), to_vt(sin, device)
    y = F.rotary_embedding(vx, vc, vs)
    assert_close(y, rope(x, cos, sin), rtol=1e-6, atol=1e-6)
    assert_close(F.rotary_embedding(y, vc, vs, inverse=True), x, rtol=1e-5, atol=1e-5)
    x5 = randn((2, 2, 2, 7, 12), torch.float32, seed=4)
    assert_close(F.rotary_embedding(to_vt(x5, device), vc, vs), rope(x5, cos, sin), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype,table", [(torch.bfloat16, torch.float32), (torch.float64, torch.float64),
                                         (torch.float32, torch.float64), (torch.bfloat16, torch.bfloat16)],
                         ids=["bf16-f32", "f64-f64", "f32-f64", "bf16-bf16"])
def test_dtypes_promote_as_the_formula(device, dtype, table):
    x = randn((2, 2, 6, 8), dtype, seed=5).requires_grad_()
    cos, sin = tables(6, 8, table)
    tol = dict(rtol=1e-2, atol=1e-2) if torch.bfloat16 in (dtype, table) else dict(rtol=1e-6, atol=1e-6)
    check_op(lambda a: F.rotary_embedding(a, to_vt(cos, device), to_vt(sin, device)), lambda a: rope(a, cos, sin), [x],
             device, tol)


def test_gradients_of_cos_and_sin(device):
    x = randn((2, 3, 5, 8), torch.float32, seed=6).requires_grad_()
    cos, sin = (t.requires_grad_() for t in tables(5, 8))
    check_op(lambda a, c, s: F.rotary_embedding(a, c, s), rope, [x, cos, sin], device, dict(rtol=1e-5, atol=1e-5))
    check_op(lambda a, c, s: F.rotary_embedding(a, c, s, inverse=True), lambda a, c, s: rope(a, c, -s), [x, cos, sin],
             device, dict(rtol=1e-5, atol=1e-5))


def test_no_grad_records_nothing(device):
    x = to_vt(randn((1, 1, 3, 4), torch.float32), device, requires_grad=True)
    cos, sin = (to_vt(t, device) for t in tables(3, 4))
    with vt.no_grad():
        assert F.rotary_embedding(x, cos, sin).grad_fn is None
    assert F.rotary_embedding(x, cos, sin).grad_fn.name() == "RotaryEmbeddingBackward0"


def test_bad_input(device):
    cos, sin = (to_vt(t, device) for t in tables(3, 4))
    x = to_vt(randn((2, 3, 4), torch.float32), device)
    with pytest.raises(ValueError, match=r"rotary_embedding: expected an input of shape \(\.\.\., T, D\) with an even D, "
                                         r"got \[2, 3, 5\]"):
        F.rotary_embedding(to_vt(randn((2, 3, 5), torch.float32), device), cos, sin)
    with pytest.raises(ValueError, match=r"expected cos and sin of shape \[4, 2\] for an input of shape \[2, 4, 4\]"):
        F.rotary_embedding(to_vt(randn((2, 4, 4), torch.float32), device), cos, sin)
    with pytest.raises(TypeError, match="expected a floating point input, got int64"):
        F.rotary_embedding(to_vt(torch.zeros(2, 3, 4, dtype=torch.int64), device), cos, sin)
    with pytest.raises(TypeError, match="expected cos and sin of one floating point dtype, got float32 and float64"):
        F.rotary_embedding(x, cos, to_vt(tables(3, 4, torch.float64)[1], device))
    with pytest.raises(ValueError, match="even D"):
        F.rotary_embedding(to_vt(torch.zeros(4), device), cos, sin)


def test_gpt_workload_with_fused_rope_trains_as_the_composed_form():
    """seq_reverse with the workload option fused_rope: the same losses as the composed RoPE (CPU),
    and torch ignores the option (it has no rotary_embedding)."""
    from vibetensor.experiments.workloads import seq_reverse

    def losses(fw, fused):
        cfg = seq_reverse.Config(dim=32, heads=2, layers=1, batch=4, fused_rope=fused)
        wl = seq_reverse.Workload(fw, "cpu", cfg)
        return [wl.step(wl.next_batch()) for _ in range(3)]

    composed, fused = losses(vt, False), losses(vt, True)
    np.testing.assert_allclose(fused, composed, rtol=1e-5)
    np.testing.assert_allclose(losses(torch, True), composed, rtol=1e-4)
