"""softmax, log_softmax, layer_norm, rms_norm, nll_loss, cross_entropy, dropout and
scaled_dot_product_attention against torch: forward, backward, layouts, dtypes, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import vibetensor as vt
from vibetensor import _C

from harness import (CUDA_ONLY, DT, assert_close, backward, check_op, ops, rand, randn, to_torch, to_vt, vt_dtype,
                     weighted_sum)

FLOATS = [torch.float32, torch.float64]
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-10)}


# ---- softmax ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("log", [False, True])
def test_softmax(device, dtype, dim, log):
    name = "log_softmax" if log else "softmax"
    x = randn((4, 5, 6), dtype, scale=3.0)
    check_op(lambda v: getattr(ops, name)(v, dim), lambda t: getattr(torch, name)(t, dim), [x], device, TOL[dtype], grad_of=[True], seed=7)


@pytest.mark.parametrize("shape,dim", [((300, 1000), 1), ((40, 300, 30), 1), ((500, 70), 0)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_large_and_noncontiguous(device, shape, dim, log):
    # Large enough for the threaded paths; the transposed input is copied first.
    name = "log_softmax" if log else "softmax"
    x = randn(shape, torch.float32, scale=5.0)
    check_op(lambda v: getattr(ops, name)(v, dim), lambda t: getattr(torch, name)(t, dim), [x], device, TOL[torch.float32], grad_of=[True], seed=7)
    check_op(lambda v: getattr(ops, name)(ops.transpose(v, 0, -1), dim), lambda t: getattr(torch, name)(t.transpose(0, -1), dim), [x], device, TOL[torch.float32], grad_of=[True], seed=7)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_stability_and_masking(device, log):
    name = "log_softmax" if log else "softmax"
    x = torch.tensor([[1000.0, 1001.0, -1000.0, 999.0], [0.0, float("-inf"), 1.0, float("-inf")],
                      [-1e4, -1e4 + 1, -1e4 + 2, -1e4 + 3]])
    for dim in [1, 0]:
        assert_close(getattr(ops, name)(to_vt(x, device), dim), getattr(torch, name)(x, dim))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_backward_ops(device, dtype, dim):
    out = torch.softmax(randn((6, 7), dtype), dim)
    g = randn((6, 7), dtype, seed=2)
    assert_close(ops.softmax_backward(to_vt(g, device), to_vt(out, device), dim), torch._softmax_backward_data(g, out, dim, dtype), **TOL[dtype])
    lout = torch.log_softmax(randn((6, 7), dtype), dim)
    assert_close(ops.log_softmax_backward(to_vt(g, device), to_vt(lout, device), dim),
                 torch._log_softmax_backward_data(g, lout, dim, dtype), **TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_softmax_low_precision_forward(device, dtype):
    x = randn((8, 100), dtype, scale=3.0)
    for name in ["softmax", "log_softmax"]:
        for dim in [0, 1]:
            got = to_torch(getattr(ops, name)(to_vt(x, device), dim))
            assert got.dtype == dtype
            torch.testing.assert_close(got.float(), getattr(torch, name)(x.float(), dim), rtol=2e-2, atol=2e-2)


def test_softmax_zero_dim(device):
    s = torch.tensor(1.5)
    assert_close(ops.softmax(to_vt(s, device), 0), torch.softmax(s, 0))
    assert_close(ops.log_softmax(to_vt(s, device), -1), torch.log_softmax(s, -1))


def test_softmax_errors(device):
    with pytest.raises(IndexError):
        ops.softmax(to_vt(randn((3, 4)), device), 2)
    with pytest.raises(IndexError):
        ops.log_softmax(to_vt(randn((3, 4)), device), -3)
    with pytest.raises(TypeError):
        ops.softmax(to_vt(torch.ones(3, dtype=torch.int64), device), 0)
    with pytest.raises(ValueError):
        ops.softmax_backward(to_vt(randn((3, 4)), device), to_vt(randn((4, 3)), device), 0)


# ---- layer_norm / rms_norm -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nshape", [[8], [6, 8]])
@pytest.mark.parametrize("affine", ["none", "weight", "both", "bias"])
def test_layer_norm(device, dtype, nshape, affine):
    x = randn((4, 6, 8), dtype, scale=2.0) + 3
    w = randn(nshape, dtype, seed=3) if affine in ("weight", "both") else None
    b = randn(nshape, dtype, seed=4) if affine in ("bias", "both") else None
    check_op(lambda xv, wv, bv: ops.layer_norm(xv, nshape, wv, bv, 1e-5), lambda xt, wt, bt: F.layer_norm(xt, nshape, wt, bt, 1e-5), [x, w, b], device, TOL[dtype], grad_of=[True, w is not None, b is not None], seed=7)


def test_layer_norm_large_noncontiguous_and_partial_grads(device):
    # 512 rows x 256 features: the threaded forward and backward (per-thread dw/db partials).
    base = randn((2, 256, 256), torch.float32)
    w, b = randn((256,), seed=5), randn((256,), seed=6)
    check_op(lambda xv, wv, bv: ops.layer_norm(ops.transpose(xv, 1, 2), [256], wv, bv, 1e-5), lambda xt, wt, bt: F.layer_norm(xt.transpose(1, 2), [256], wt, bt, 1e-5), [base, w, b], device, dict(rtol=1e-4, atol=1e-4), grad_of=[True, True, True], seed=7)
    # Only the weight requires grad (a frozen input).
    check_op(lambda xv, wv: ops.layer_norm(xv, [256], wv), lambda xt, wt: F.layer_norm(xt, [256], wt), [base, w], device, dict(rtol=1e-4, atol=1e-4), grad_of=[False, True], seed=7)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("with_weight", [False, True])
@pytest.mark.parametrize("nshape", [[8], [6, 8]])
def test_rms_norm(device, dtype, eps, with_weight, nshape):
    x = randn((4, 6, 8), dtype, scale=2.0)
    w = randn(nshape, dtype, seed=3) if with_weight else None
    check_op(lambda xv, wv: ops.rms_norm(xv, nshape, wv, eps), lambda xt, wt: F.rms_norm(xt, nshape, wt, eps), [x, w], device, TOL[dtype], grad_of=[True, with_weight], seed=7)


def test_rms_norm_default_eps_is_machine_epsilon(device):
    # Tiny inputs make eps dominate, so a wrong default shows.
    x = randn((3, 16), torch.float32, scale=1e-4)
    assert_close(ops.rms_norm(to_vt(x, device), [16]), F.rms_norm(x, [16]), rtol=1e-5, atol=1e-5)
    x64 = randn((3, 16), torch.float64, scale=1e-8)
    assert_close(ops.rms_norm(to_vt(x64, device), [16]), F.rms_norm(x64, [16]), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_norm_low_precision_forward(device, dtype):
    x = randn((5, 64), dtype, scale=2.0)
    w, b = randn((64,), dtype, seed=1), randn((64,), dtype, seed=2)
    tol = dict(rtol=3e-2, atol=3e-2)
    got = to_torch(ops.layer_norm(to_vt(x, device), [64], to_vt(w, device), to_vt(b, device)))
    assert got.dtype == dtype
    torch.testing.assert_close(got.float(), F.layer_norm(x.float(), [64], w.float(), b.float()), **tol)
    got = to_torch(ops.rms_norm(to_vt(x, device), [64], to_vt(w, device)))
    torch.testing.assert_close(got.float(), F.rms_norm(x.float(), [64], w.float()), **tol)


def test_norm_errors(device):
    xv = to_vt(randn((2, 3)), device)
    with pytest.raises(ValueError, match="normalized_shape"):
        ops.layer_norm(xv, [4])
    with pytest.raises(ValueError, match="normalized_shape"):
        ops.rms_norm(xv, [2, 3, 1])
    with pytest.raises(ValueError):
        ops.layer_norm(xv, [])
    with pytest.raises(ValueError, match="weight"):
        ops.layer_norm(xv, [3], to_vt(torch.ones(4), device))
    with pytest.raises(ValueError, match="bias"):
        ops.layer_norm(xv, [3], None, to_vt(torch.ones(2), device))
    with pytest.raises(ValueError, match="weight"):
        ops.rms_norm(xv, [3], to_vt(torch.ones(3, 1), device))
    with pytest.raises(TypeError):
        ops.layer_norm(to_vt(torch.ones(2, 3, dtype=torch.int64), device), [3])


# ---- nll_loss / cross_entropy ----------------------------------------------------------------

CASES = [((5,), ()), ((6, 5), (6,)), ((4, 5, 3, 2), (4, 3, 2))]


def targets(shape, C, seed, ignore=None):
    t = torch.randint(0, C, shape, generator=torch.Generator().manual_seed(seed))
    if ignore is not None and t.dim() > 0:
        t.view(-1)[::3] = ignore
    return t


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_nll_and_cross_entropy(device, dtype, shapes, reduction, ignore_index, name):
    in_shape, t_shape = shapes
    x = randn(in_shape, dtype, scale=2.0)
    t = targets(t_shape, in_shape[0] if len(in_shape) == 1 else in_shape[1], seed=8, ignore=ignore_index)
    tv = to_vt(t, device)
    check_op(lambda xv: getattr(ops, name)(xv, tv, ignore_index, reduction), lambda xt: getattr(F, name)(xt, t, ignore_index=ignore_index, reduction=reduction), [x], device, TOL[dtype], grad_of=[True], seed=7)


def test_nll_loss_all_ignored_mean_is_nan(device):
    x, t = randn((3, 4)), torch.full((3,), -100)
    assert_close(ops.nll_loss(to_vt(x, device), to_vt(t, device)), F.nll_loss(x, t), equal_nan=True)


@pytest.mark.parametrize("shape", [(6, 5), (5,), (3, 4, 2, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_probabilities(device, shape, reduction):
    cdim = 0 if len(shape) == 1 else 1
    x = randn(shape, torch.float64)
    p = torch.softmax(randn(shape, torch.float64, seed=9), cdim)
    check_op(lambda xv, pv: ops.cross_entropy(xv, pv, -100, reduction), lambda xt, pt: F.cross_entropy(xt, pt, reduction=reduction), [x, p], device, TOL[torch.float64], grad_of=[True, True], seed=7)


def test_loss_errors(device):
    xv = to_vt(randn((3, 4)), device)
    good = to_vt(torch.tensor([0, 1, 3]), device)
    with pytest.raises(ValueError, match="reduction"):
        ops.nll_loss(xv, good, -100, "avg")
    with pytest.raises(ValueError, match="reduction"):
        ops.cross_entropy(xv, good, -100, "Mean")
    # On CUDA a bad class index raises at the call only under checks.cuda_index=sync; the default
    # (device_assert) traps and loses the CUDA context, as torch does. See Note [CUDA index checks].
    with vt.policy.override("checks.cuda_index=sync"):
        with pytest.raises(IndexError, match="out of bounds"):
            ops.nll_loss(xv, to_vt(torch.tensor([0, 4, 1]), device))
        with pytest.raises(IndexError, match="out of bounds"):
            ops.cross_entropy(xv, to_vt(torch.tensor([0, -1, 1]), device))
    with pytest.raises(ValueError, match="batch_size"):
        ops.nll_loss(xv, to_vt(torch.tensor([0, 1]), device))
    with pytest.raises(ValueError):
        ops.nll_loss(to_vt(randn((2, 3, 4)), device), to_vt(torch.zeros(2, 5, dtype=torch.int64), device))
    with pytest.raises(TypeError, match="int64"):
        ops.nll_loss(xv, to_vt(torch.tensor([0, 1, 3], dtype=torch.int32), device))
    with pytest.raises(ValueError):
        ops.nll_loss(to_vt(torch.tensor(1.0), device), to_vt(torch.tensor(0), device))
    with pytest.raises(ValueError, match="shape"):
        ops.cross_entropy(xv, to_vt(randn((3, 5)), device))


# ---- dropout ---------------------------------------------------------------------------------

def test_dropout_mask_scale_and_backward(device):
    x = randn((200, 500), torch.float32) + 5.0  # never zero, so kept elements are the nonzero outputs
    p = 0.3
    xv = to_vt(x, device, requires_grad=True)
    _C.manual_seed(123)
    out = ops.dropout(xv, p, True)
    o = to_torch(out)
    kept = o != 0
    assert abs(kept.float().mean().item() - (1 - p)) < 0.01
    torch.testing.assert_close(o, torch.where(kept, x / (1 - p), torch.zeros(())))
    w = randn(x.shape, seed=4)
    backward(weighted_sum(out, w))
    torch.testing.assert_close(to_torch(xv.grad), torch.where(kept, w / (1 - p), torch.zeros(())))
    # The same seed gives the same mask (with or without autograd); the next call a fresh one.
    _C.manual_seed(123)
    again = to_torch(ops.dropout(to_vt(x, device), p, True))
    torch.testing.assert_close(again, o)
    assert not torch.equal(to_torch(ops.dropout(to_vt(x, device), p, True)) != 0, kept)


def test_dropout_identity_and_all_dropped(device):
    x = randn((4, 5))
    xv = to_vt(x, device, requires_grad=True)
    assert ops.dropout(xv, 0.5, False)._is_same(xv)
    assert ops.dropout(xv, 0.0, True)._is_same(xv)
    out = ops.dropout(xv, 1.0, True)
    assert_close(out, torch.zeros(4, 5))
    backward(ops.sum(out))
    assert_close(xv.grad, torch.zeros(4, 5))


def test_dropout_errors(device):
    xv = to_vt(randn((4, 5)), device)
    for p in [-0.1, 1.5]:
        with pytest.raises(ValueError, match="between 0 and 1"):
            ops.dropout(xv, p, True)
    with pytest.raises(TypeError):
        ops.dropout(to_vt(torch.ones(3, dtype=torch.int64), device), 0.5, True)


# ---- scaled_dot_product_attention ------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", ["plain", "causal", "bool_mask", "float_mask", "scale"])
def test_sdpa(device, dtype, mode):
    q, k, v = randn((2, 3, 5, 8), dtype, 1), randn((2, 3, 7, 8), dtype, 2), randn((2, 3, 7, 4), dtype, 3)
    mask = None
    if mode == "bool_mask":
        mask = torch.rand(5, 7, generator=torch.Generator().manual_seed(4)) > 0.4
        mask[:, 0] = True  # every query sees at least one key
    elif mode == "float_mask":
        mask = randn((3, 5, 7), dtype, 5)
    kw = dict(is_causal=mode == "causal", scale=0.3 if mode == "scale" else None)
    mv = None if mask is None else to_vt(mask, device)
    check_op(lambda a, b, c: ops.scaled_dot_product_attention(a, b, c, mv, 0.0, kw["is_causal"], kw["scale"]), lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask, **kw), [q, k, v], device, TOL[dtype], grad_of=[True, True, True], seed=7)


def test_sdpa_dropout_is_seeded(device):
    q, k, v = (to_vt(randn((2, 4, 8), seed=s), device) for s in (1, 2, 3))
    _C.manual_seed(5)
    a = to_torch(ops.scaled_dot_product_attention(q, k, v, None, 0.5))
    _C.manual_seed(5)
    b = to_torch(ops.scaled_dot_product_attention(q, k, v, None, 0.5))
    c = to_torch(ops.scaled_dot_product_attention(q, k, v, None, 0.0))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


def test_sdpa_mask_dtypes(device):
    q, k, v = (randn((2, 4, 8), torch.float32, s) for s in (1, 2, 3))
    m64 = randn((4, 4), torch.float64, 4)
    out = ops.scaled_dot_product_attention(to_vt(q, device), to_vt(k, device), to_vt(v, device), to_vt(m64, device))
    assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=m64.float()), rtol=1e-5, atol=1e-5)
    with pytest.raises(TypeError, match="attn_mask"):
        ops.scaled_dot_product_attention(to_vt(q, device), to_vt(k, device), to_vt(v, device), to_vt(torch.ones(4, 4, dtype=torch.int64), device))


def test_sdpa_errors(device):
    q = to_vt(randn((2, 4, 8)), device)
    with pytest.raises(ValueError, match="is_causal"):
        ops.scaled_dot_product_attention(q, q, q, to_vt(torch.ones(4, 4, dtype=torch.bool), device), 0.0, True)
    with pytest.raises(ValueError, match="embedding"):
        ops.scaled_dot_product_attention(q, to_vt(randn((2, 4, 7)), device), q)
    with pytest.raises(ValueError, match="sequence length"):
        ops.scaled_dot_product_attention(q, q, to_vt(randn((2, 5, 8)), device))
    with pytest.raises(ValueError):
        ops.scaled_dot_product_attention(to_vt(randn((8,)), device), q, q)


# ---- softmax family: every launch shape of the CUDA kernels (Note [CUDA softmax]), on every device ----

ALL_FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]

SOFTMAX_CASES = [
    ((5, 7), -1),          # warp per row, 1 element per lane
    ((33, 100), 1),        # warp per row, 4 per lane
    ((17, 1000), -1),      # warp per row, 32 per lane
    ((9, 1025), 1),        # block per row, registers
    ((4, 8192), -1),       # block per row, 16 per thread
    ((3, 50000), -1),      # block per row, streamed
    ((6, 50, 7), 1),       # middle dim: column kernel
    ((300, 40), 0),        # first dim: column kernel
    ((2, 3, 4, 5), 2),
]


def softmax_tol(dtype):
    return {torch.float32: (1e-5, 1e-6), torch.float64: (1e-10, 1e-12), torch.float16: (5e-3, 1e-3),
            torch.bfloat16: (3e-2, 1e-2)}[dtype]


@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES)
@pytest.mark.parametrize("dtype", ALL_FLOATS)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_forward(device, shape, dim, dtype, log):
    x = rand(shape, dtype, -8, 8, seed=17)
    fn = torch.log_softmax if log else torch.softmax
    ref = fn(x.double(), dim).to(dtype)
    r, a = softmax_tol(dtype)
    got = (ops.log_softmax if log else ops.softmax)(to_vt(x, device), dim)
    assert_close(got, ref, rtol=r, atol=a * (10 if log else 1))


@pytest.mark.parametrize("device", CUDA_ONLY)  # See Note [Kernel layout tests run on CUDA]
@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_backward(device, shape, dim, dtype, log):
    x = rand(shape, torch.float64, -4, 4, seed=18)
    g = rand(shape, torch.float64, seed=19)
    fn = torch.log_softmax if log else torch.softmax
    xt = x.clone().requires_grad_()
    fn(xt, dim).backward(g)
    xv = to_vt(x.to(dtype), device, requires_grad=True)
    out = (ops.log_softmax if log else ops.softmax)(xv, dim)
    backward(out, g.to(dtype))
    r, a = softmax_tol(dtype)
    scale = 1 if dtype in (torch.float32, torch.float64) else 5
    assert_close(xv.grad, xt.grad.to(dtype), rtol=r * scale, atol=a * scale * 10)
    # the backward ops directly
    y = fn(x, dim).to(dtype)
    bw = ops.log_softmax_backward if log else ops.softmax_backward
    ref = (torch.ops.aten._log_softmax_backward_data if log else torch.ops.aten._softmax_backward_data)(
        g, fn(x, dim), dim, torch.float64).to(dtype)
    assert_close(bw(to_vt(g.to(dtype), device), to_vt(y, device), dim), ref, rtol=r * scale, atol=a * scale * 10)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_non_contiguous_masking_and_stability(device, log):
    fn, vfn = (torch.log_softmax, ops.log_softmax) if log else (torch.softmax, ops.softmax)
    base = rand((64, 3000), torch.float32, -5, 5, seed=20)
    xt = base.t()[::2]  # (1500, 64), strided
    xv = ops.slice(ops.transpose(to_vt(base, device), 0, 1), 0, 0, None, 2)
    for d in (0, 1):
        assert_close(vfn(xv, d), fn(xt, d), rtol=1e-5, atol=1e-5)
    big = torch.tensor([[1000.0, 1001.0, -1000.0, float("-inf")], [float("-inf")] * 4, [0.0, float("nan"), 1.0, 2.0]])
    assert_close(vfn(to_vt(big, device), 1), fn(big, 1))


def test_softmax_zero_dim_empty_and_errors(device):
    s = torch.tensor(1.5)
    assert_close(ops.softmax(to_vt(s, device), 0), torch.softmax(s, 0))
    assert_close(ops.log_softmax(to_vt(s, device), -1), torch.log_softmax(s, -1))
    e = torch.empty(0, 5)
    assert_close(ops.softmax(to_vt(e, device), 1), torch.softmax(e, 1))
    with pytest.raises(IndexError):
        ops.softmax(to_vt(rand((3, 4), torch.float32), device), 2)
    with pytest.raises(IndexError):
        ops.log_softmax(to_vt(rand((3, 4), torch.float32), device), -3)
    with pytest.raises(TypeError):
        ops.softmax(to_vt(torch.ones(3, dtype=torch.int64), device), 0)
    with pytest.raises(ValueError):
        ops.softmax_backward(to_vt(rand((3, 4), torch.float32), device), to_vt(rand((4, 3), torch.float32), device), 0)


@pytest.mark.parametrize("dtype", ALL_FLOATS)
def test_dtypes_round_trip(device, dtype):
    # the vibetensor dtype of each torch dtype is what the kernels return
    x = rand((4, 9), dtype, seed=21)
    assert ops.sum(to_vt(x, device), [1]).dtype == vt_dtype(dtype)
    assert ops.softmax(to_vt(x, device), 1).dtype == vt_dtype(dtype)


# ==== against float64 references in every float dtype (layer_norm, rms_norm, losses, dropout, embedding)

ALL_FLOATS_F64 = [torch.float32, torch.float16, torch.bfloat16, torch.float64]
# (rtol, atol) of a result in each dtype against a float64 reference rounded to that dtype.
TOL64 = {torch.float32: (1e-4, 1e-5), torch.float64: (1e-10, 1e-12), torch.float16: (1e-2, 1e-2),
         torch.bfloat16: (6e-2, 6e-2)}


def check64(vt_tensor, ref64, dtype, scale=1.0):
    """vt_tensor (dtype) against a float64 reference; tolerances grow with `scale` (for sums over rows)."""
    r, a = TOL64[dtype]
    assert_close(vt_tensor, ref64.detach().to(torch.float64), rtol=r * scale, atol=a * scale, check_dtype=False)


# ---- layer_norm / rms_norm -------------------------------------------------------------------------

NORM_CASES = [((4, 16), 1), ((3, 5, 33), 1), ((2, 4096), 1), ((7, 3, 8), 2), ((300, 64), 1), ((1, 3), 1)]


@pytest.mark.parametrize("dtype", ALL_FLOATS_F64)
@pytest.mark.parametrize("shape,k", NORM_CASES)
@pytest.mark.parametrize("affine", ["both", "none", "weight"])
def test_layer_norm_forward_backward(device, dtype, shape, k, affine):
    ns = list(shape[-k:])
    x, g = randn(shape, dtype, 1), randn(shape, dtype, 2)
    w = randn(ns, dtype, 3) if affine != "none" else None
    b = randn(ns, dtype, 4) if affine == "both" else None
    vx = to_vt(x, device, requires_grad=True)
    vw = to_vt(w, device, requires_grad=True) if w is not None else None
    vb = to_vt(b, device, requires_grad=True) if b is not None else None
    out = ops.layer_norm(vx, ns, vw, vb, 1e-5)
    backward(out, g)
    tx = x.double().requires_grad_()
    tw = w.double().requires_grad_() if w is not None else None
    tb = b.double().requires_grad_() if b is not None else None
    ref = torch.nn.functional.layer_norm(tx, ns, tw, tb, 1e-5)
    ref.backward(g.double())
    rows = x.numel() // int(np.prod(ns))
    check64(out, ref.to(dtype).double(), dtype)
    check64(vx.grad, tx.grad, dtype, scale=4)
    if w is not None:
        check64(vw.grad, tw.grad, dtype, scale=4 * max(1, rows) ** 0.5)
    if b is not None:
        check64(vb.grad, tb.grad, dtype, scale=4 * max(1, rows) ** 0.5)


@pytest.mark.parametrize("dtype", ALL_FLOATS_F64)
@pytest.mark.parametrize("shape,k", NORM_CASES)
@pytest.mark.parametrize("with_weight", [True, False])
@pytest.mark.parametrize("eps", [None, 1e-6])
def test_rms_norm_forward_backward(device, dtype, shape, k, with_weight, eps):
    ns = list(shape[-k:])
    x, g = randn(shape, dtype, 5), randn(shape, dtype, 6)
    w = randn(ns, dtype, 7) if with_weight else None
    vx = to_vt(x, device, requires_grad=True)
    vw = to_vt(w, device, requires_grad=True) if w is not None else None
    out = ops.rms_norm(vx, ns, vw, eps)
    backward(out, g)
    tx = x.double().requires_grad_()
    tw = w.double().requires_grad_() if w is not None else None
    ref = torch.nn.functional.rms_norm(tx, ns, tw, eps if eps is not None else torch.finfo(dtype).eps)
    ref.backward(g.double())
    rows = x.numel() // int(np.prod(ns))
    check64(out, ref.to(dtype).double(), dtype)
    check64(vx.grad, tx.grad, dtype, scale=4)
    if w is not None:
        check64(vw.grad, tw.grad, dtype, scale=4 * max(1, rows) ** 0.5)


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_norm_saved_statistics_and_cpu_agreement(device):
    """native_layer_norm's mean and rstd are float32 for half input and match the CPU kernel."""
    x = randn((6, 40), torch.float16, 8)
    out, mean, rstd = ops.native_layer_norm(to_vt(x, device), [40], None, None, 1e-5)
    out_c, mean_c, rstd_c = ops.native_layer_norm(to_vt(x), [40], None, None, 1e-5)
    assert mean.dtype == DT.float32 and rstd.dtype == DT.float32
    torch.testing.assert_close(to_torch(mean), to_torch(mean_c), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(to_torch(rstd), to_torch(rstd_c), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(to_torch(out).float(), to_torch(out_c).float(), rtol=1e-3, atol=1e-3)
    o2, r2 = ops.native_rms_norm(to_vt(x, device), [40], None, None)
    assert r2.dtype == DT.float32 and tuple(r2.shape) == (6,)


def test_norm_backward_is_deterministic_and_non_contiguous_input(device):
    base = randn((64, 96), torch.float32, 9)
    x = base.t()  # non-contiguous (96, 64)
    g = randn((96, 64), torch.float32, 10)
    w = randn((64,), torch.float32, 11)
    grads = []
    for _ in range(2):
        vx = to_vt(base, device, requires_grad=True)
        vw = to_vt(w, device, requires_grad=True)
        out = ops.layer_norm(ops.transpose(vx, 0, 1), [64], vw, None, 1e-5)
        backward(out, g)
        grads.append((to_torch(vx.grad), to_torch(vw.grad)))
    assert torch.equal(grads[0][0], grads[1][0]) and torch.equal(grads[0][1], grads[1][1])
    tx = x.double().requires_grad_()
    tw = w.double().requires_grad_()
    torch.nn.functional.layer_norm(tx, [64], tw, None, 1e-5).backward(g.double())
    check64(vx.grad, tx.grad.t(), torch.float32, scale=4)
    check64(vw.grad, tw.grad, torch.float32, scale=40)


def test_norm_shape_dtype_errors(device):
    x = to_vt(randn((4, 8), torch.float32, 12), device)
    with pytest.raises(ValueError, match="normalized_shape"):
        ops.layer_norm(x, [7], None, None, 1e-5)
    with pytest.raises(ValueError, match="weight of shape"):
        ops.layer_norm(x, [8], to_vt(randn((4,), torch.float32, 1), device), None, 1e-5)
    with pytest.raises(TypeError, match="floating point"):
        ops.rms_norm(ops.to_dtype(x, DT.int64), [8], None, None)


# ---- nll_loss / cross_entropy ----------------------------------------------------------------------

LOSS_SHAPES = [((8, 5), (8,)), ((5,), ()), ((4, 6, 3), (4, 3)), ((300, 1000), (300,))]


@pytest.mark.parametrize("dtype", ALL_FLOATS_F64)
@pytest.mark.parametrize("shapes", LOSS_SHAPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("ignore", [None, 2])
@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
def test_losses_forward_backward(device, dtype, shapes, reduction, ignore, fn):
    xs, ts = shapes
    C = xs[1] if len(xs) > 1 else xs[0]
    x = randn(xs, dtype, 13)
    t = targets(ts, C, 14, ignore)
    ii = -100 if ignore is None else ignore
    vx = to_vt(x, device, requires_grad=True)
    out = getattr(ops, fn)(vx, to_vt(t, device), ii, reduction)
    tx = x.double().requires_grad_()
    ref = getattr(torch.nn.functional, fn)(tx, t, ignore_index=ii, reduction=reduction)
    g = randn(tuple(ref.shape), dtype, 15)
    backward(out, g)
    ref.backward(g.double())
    n = max(1, t.numel())
    check64(out, ref, dtype, scale=4 * (n ** 0.5 if reduction != "none" else 1))
    check64(vx.grad, tx.grad, dtype, scale=4)


def test_nll_loss_mean_all_ignored_is_nan(device):
    x = to_vt(randn((3, 4), torch.float32, 16), device)
    t = to_vt(torch.full((3,), -100, dtype=torch.int64), device)
    out = to_torch(ops.nll_loss(x, t, -100, "mean"))
    assert torch.isnan(out).item()
    assert to_torch(ops.nll_loss(x, t, -100, "sum")).item() == 0.0


def test_nll_loss_target_out_of_bounds_raises_in_sync_mode(device):
    x = to_vt(randn((3, 4), torch.float32, 17), device)
    bad = to_vt(torch.tensor([0, 4, 1]), device)
    with vt.policy.override("checks.cuda_index=sync"):
        for reduction in ("none", "sum", "mean"):
            with pytest.raises(IndexError, match=r"(index|target) 4 is out of bounds"):
                ops.nll_loss(x, bad, -100, reduction)
        with pytest.raises(IndexError, match=r"(index|target) -1 is out of bounds"):
            ops.nll_loss(x, to_vt(torch.tensor([0, -1, 1]), device), -100, "mean")
        with pytest.raises(IndexError, match="out of bounds"):
            ops.nll_loss_backward(to_vt(torch.tensor(1.0), device), x, bad, -100, "mean")


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_nll_loss_checks_add_no_host_sync_by_default(device):
    x = to_vt(randn((64, 10), torch.float32, 18), device)
    t = to_vt(targets((64,), 10, 19), device)
    vt.cuda.synchronize()
    vt.cuda.reset_sync_ledger()
    ops.nll_loss(x, t, -100, "mean")
    ops.embedding(x, t)
    assert "nll_loss" not in vt.cuda.sync_ledger() and "embedding" not in vt.cuda.sync_ledger()


def test_loss_target_errors(device):
    x = to_vt(randn((3, 4), torch.float32, 20), device)
    with pytest.raises(TypeError, match="int64"):
        ops.nll_loss(x, to_vt(torch.tensor([0, 1, 2], dtype=torch.int32), device), -100, "mean")
    with pytest.raises(ValueError, match="batch_size"):
        ops.nll_loss(x, to_vt(torch.tensor([0, 1]), device), -100, "mean")
    with pytest.raises(ValueError, match="reduction"):
        ops.nll_loss(x, to_vt(torch.tensor([0, 1, 2]), device), -100, "avg")



@pytest.mark.parametrize("device", CUDA_ONLY)
def test_norm_and_loss_mixed_devices(device):
    x = to_vt(randn((4, 8), torch.float32, 12), device)
    with pytest.raises(RuntimeError, match="device"):
        ops.layer_norm(x, [8], to_vt(randn((8,), torch.float32, 1)), None, 1e-5)
    x = to_vt(randn((3, 4), torch.float32, 20), device)
    with pytest.raises(RuntimeError, match="same device"):
        ops.nll_loss(x, to_vt(torch.tensor([0, 1, 2])), -100, "mean")

# ---- dropout ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_FLOATS_F64)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("device", CUDA_ONLY)
def test_dropout_same_mask_on_cpu_and_cuda(device, dtype, p):
    x = randn((37, 129), dtype, 21)
    vt.manual_seed(1234)
    out_c, mask_c = ops.native_dropout(to_vt(x), p)
    vt.manual_seed(1234)
    out_g, mask_g = ops.native_dropout(to_vt(x, device), p)
    assert mask_g.dtype == DT.bool
    assert torch.equal(to_torch(mask_g), to_torch(mask_c))
    assert torch.equal(to_torch(out_g), to_torch(out_c))
    keep = to_torch(mask_g).double().mean().item()
    assert abs(keep - (1 - p)) < 0.05
    expected = x.double() * to_torch(mask_g).double() / (1 - p)
    check64(out_g, expected.to(dtype).double(), dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_dropout_backward_and_edge_probabilities(device, dtype):
    x, g = randn((16, 33), dtype, 22), randn((16, 33), dtype, 23)
    vx = to_vt(x, device, requires_grad=True)
    vt.manual_seed(7)
    out = ops.dropout(vx, 0.3, True)
    backward(out, g)
    mask = (to_torch(out).double() != 0) | (x.double() == 0)
    check64(vx.grad, (g.double() * mask.double() / 0.7).to(dtype).double(), dtype)
    # p = 0 and train=False give the input itself; p = 1 gives zeros and a zero gradient.
    vx0 = to_vt(x, device)
    assert ops.dropout(vx0, 0.0, True) is vx0 or torch.equal(to_torch(ops.dropout(vx0, 0.0, True)), x)
    assert torch.equal(to_torch(ops.dropout(vx0, 0.5, False)), x)
    vx1 = to_vt(x, device, requires_grad=True)
    out1 = ops.dropout(vx1, 1.0, True)
    assert to_torch(out1).abs().sum().item() == 0
    backward(out1, g)
    assert to_torch(vx1.grad).abs().sum().item() == 0
    # non-contiguous grad
    gt = randn((33, 16), dtype, 24)
    _, mask_t = ops.native_dropout(to_vt(x, device), 0.5)
    gi = ops.dropout_backward(ops.transpose(to_vt(gt, device), 0, 1), mask_t, 2.0)
    check64(gi, (gt.t().double() * to_torch(mask_t).double() * 2.0).to(dtype).double(), dtype)


def test_dropout_argument_errors(device):
    x = to_vt(randn((4, 4), torch.float32, 25), device)
    with pytest.raises(ValueError, match="between 0 and 1"):
        ops.dropout(x, 1.5, True)
    with pytest.raises(ValueError, match="0 < p < 1"):
        ops.native_dropout(x, 1.0)
    with pytest.raises(TypeError, match="floating point"):
        ops.dropout(ops.to_dtype(x, DT.int64), 0.5, True)
    with pytest.raises(ValueError, match="does not match the mask"):
        ops.dropout_backward(x, ops.native_dropout(to_vt(randn((4, 5), torch.float32, 1), device), 0.5)[1], 2.0)


# ---- embedding -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_FLOATS_F64)
@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32])
@pytest.mark.parametrize("shape", [(17,), (4, 9), (2, 3, 5)])
def test_embedding_forward_backward_repeated_indices(device, dtype, index_dtype, shape):
    V, D = 11, 24
    w = randn((V, D), dtype, 26)
    idx = targets(shape, 4, 27).to(index_dtype)  # only rows 0..3: many repeats
    g = randn(tuple(shape) + (D,), dtype, 28)
    vw = to_vt(w, device, requires_grad=True)
    out = ops.embedding(vw, to_vt(idx, device))
    backward(out, g)
    tw = w.double().requires_grad_()
    ref = torch.nn.functional.embedding(idx.long(), tw)
    ref.backward(g.double())
    assert torch.equal(to_torch(out), w[idx.long()])
    check64(vw.grad, tw.grad, dtype, scale=4)


def test_embedding_backward_is_deterministic_and_non_contiguous_weight(device):
    V, D, n = 1000, 64, 20000
    idx = targets((n,), 50, 29)
    g = randn((n, D), torch.float32, 30)
    r1 = to_torch(ops.embedding_backward(to_vt(g, device), to_vt(idx, device), V))
    r2 = to_torch(ops.embedding_backward(to_vt(g, device), to_vt(idx, device), V))
    assert torch.equal(r1, r2)
    ref = torch.zeros(V, D, dtype=torch.float64).index_add_(0, idx, g.double())
    torch.testing.assert_close(r1.double(), ref, rtol=1e-4, atol=1e-3)
    wt = randn((D, V), torch.float32, 31)
    out = ops.embedding(ops.transpose(to_vt(wt, device), 0, 1), to_vt(idx[:100], device))
    assert torch.equal(to_torch(out), wt.t()[idx[:100]])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_embedding_backward_long_segments(device, dtype):
    """Segments much longer than a chunk of the CUDA kernel (a small vocabulary over many positions,
    one index taking over a third of them), and segments that start and end inside chunks."""
    V, D, n = 36, 40, 16411
    gen = torch.Generator().manual_seed(33)
    idx = torch.randint(0, V, (n,), generator=gen)
    idx[: n // 3] = 7
    idx[n // 3: n // 3 + 31] = 35
    idx = idx[torch.randperm(n, generator=gen)]
    g = randn((n, D), dtype, 34)
    r1 = to_torch(ops.embedding_backward(to_vt(g, device), to_vt(idx, device), V))
    assert torch.equal(r1, to_torch(ops.embedding_backward(to_vt(g, device), to_vt(idx, device), V)))
    if dtype == torch.bfloat16 and device == "cpu":
        return  # the CPU adds in bf16, as torch's CPU kernel does (both are off by ~20 here); CUDA adds in float
    ref = torch.zeros(V, D, dtype=torch.float64).index_add_(0, idx, g.double())
    tol = {torch.bfloat16: (1e-2, 0.5)}.get(dtype, (1e-5, 1e-3))
    torch.testing.assert_close(r1.double(), ref, rtol=tol[0], atol=tol[1])


def test_embedding_index_errors(device):
    w = to_vt(randn((5, 3), torch.float32, 32), device)
    with vt.policy.override("checks.cuda_index=sync"):
        with pytest.raises(IndexError, match=r"index 5 is out of (bounds|range)"):
            ops.embedding(w, to_vt(torch.tensor([0, 5, 1]), device))
        with pytest.raises(IndexError, match=r"index -2 is out of (bounds|range)"):
            ops.embedding(w, to_vt(torch.tensor([[0, -2]]), device))
    with pytest.raises(TypeError, match="int64 or int32"):
        ops.embedding(w, to_vt(torch.tensor([0.0, 1.0]), device))
    with pytest.raises(ValueError, match="2-D"):
        ops.embedding(to_vt(randn((5,), torch.float32, 1), device), to_vt(torch.tensor([0]), device))
    with pytest.raises(ValueError, match="indices.shape"):
        ops.embedding_backward(to_vt(randn((3, 4), torch.float32, 1), device), to_vt(torch.tensor([0, 1]), device), 5)


def test_embedding_backward_names_itself_for_an_index_out_of_range():
    """Called directly, its bad index was reported as index_add's error, the op it adds with."""
    g = to_vt(randn((3, 4), torch.float32, 1))
    with pytest.raises(IndexError, match=r"^embedding_backward: index 5 is out of bounds for dimension 0 with size 5"):
        ops.embedding_backward(g, to_vt(torch.tensor([0, 5, 1])), 5)
    with pytest.raises(IndexError, match=r"^embedding_backward: index -1 is out of bounds"):
        ops.embedding_backward(g, to_vt(torch.tensor([0, -1, 1])), 5)


def test_fused_attention_ops_are_cuda_only():
    q = to_vt(randn((1, 2, 8, 16)))
    with pytest.raises(NotImplementedError, match="_fused_attention: runs on CUDA tensors only"):
        ops._fused_attention(q, q, q, False, 0.25)
    with pytest.raises(NotImplementedError, match="_fused_attention_backward: runs on CUDA tensors only"):
        ops._fused_attention_backward(q, q, q, q, q, q, False, 0.25)
    q.requires_grad = True
    with pytest.raises(NotImplementedError, match="runs on CUDA tensors only"):
        ops._fused_attention(q, q, q, True, 0.25)
