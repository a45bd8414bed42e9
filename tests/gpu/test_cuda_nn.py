"""CUDA kernels of layer_norm, rms_norm, nll_loss / cross_entropy, dropout and embedding against torch
(references computed in float64 from the same inputs), forward and backward through vibetensor's
autograd, plus error paths, determinism and CPU/CUDA dropout mask equality."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from vibetensor import _C

from cuda_util import CPU, DT, cuda, from_torch, leaf, ops, requires_gpu
from harness import backward, to_torch

pytestmark = requires_gpu

FLOATS = ["float32", "float16", "bfloat16", "float64"]
# (rtol, atol) of a result in each dtype against a float64 reference rounded to that dtype.
TOL = {"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12), "float16": (1e-2, 1e-2), "bfloat16": (6e-2, 6e-2)}


def tdt(name):
    return getattr(torch, name)


def check(vt_tensor, ref64, dtype, scale=1.0):
    """vt_tensor (dtype) against a float64 reference; tolerances grow with `scale` (for sums over rows)."""
    got = to_torch(vt_tensor).to(torch.float64)
    assert tuple(got.shape) == tuple(ref64.shape)
    r, a = TOL[dtype]
    torch.testing.assert_close(got, ref64.detach().to("cpu", torch.float64), rtol=r * scale, atol=a * scale,
                               equal_nan=True)


def rand(shape, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(tuple(shape), generator=g, dtype=torch.float64).to(tdt(dtype))


# ---- layer_norm / rms_norm -------------------------------------------------------------------------

NORM_CASES = [((4, 16), 1), ((3, 5, 33), 1), ((2, 4096), 1), ((7, 3, 8), 2), ((300, 64), 1), ((1, 3), 1)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,k", NORM_CASES)
@pytest.mark.parametrize("affine", ["both", "none", "weight"])
def test_layer_norm_forward_backward(dtype, shape, k, affine):
    ns = list(shape[-k:])
    x, g = rand(shape, dtype, 1), rand(shape, dtype, 2)
    w = rand(ns, dtype, 3) if affine != "none" else None
    b = rand(ns, dtype, 4) if affine == "both" else None
    vx = leaf(x)
    vw = leaf(w) if w is not None else None
    vb = leaf(b) if b is not None else None
    out = ops.layer_norm(vx, ns, vw, vb, 1e-5)
    backward(out, g)
    tx = x.double().requires_grad_()
    tw = w.double().requires_grad_() if w is not None else None
    tb = b.double().requires_grad_() if b is not None else None
    ref = torch.nn.functional.layer_norm(tx, ns, tw, tb, 1e-5)
    ref.backward(g.double())
    rows = x.numel() // int(np.prod(ns))
    check(out, ref.to(tdt(dtype)).double(), dtype)
    check(vx.grad, tx.grad, dtype, scale=4)
    if w is not None:
        check(vw.grad, tw.grad, dtype, scale=4 * max(1, rows) ** 0.5)
    if b is not None:
        check(vb.grad, tb.grad, dtype, scale=4 * max(1, rows) ** 0.5)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,k", NORM_CASES)
@pytest.mark.parametrize("with_weight", [True, False])
@pytest.mark.parametrize("eps", [None, 1e-6])
def test_rms_norm_forward_backward(dtype, shape, k, with_weight, eps):
    ns = list(shape[-k:])
    x, g = rand(shape, dtype, 5), rand(shape, dtype, 6)
    w = rand(ns, dtype, 7) if with_weight else None
    vx = leaf(x)
    vw = leaf(w) if w is not None else None
    out = ops.rms_norm(vx, ns, vw, eps)
    backward(out, g)
    tx = x.double().requires_grad_()
    tw = w.double().requires_grad_() if w is not None else None
    ref = torch.nn.functional.rms_norm(tx, ns, tw, eps if eps is not None else torch.finfo(tdt(dtype)).eps)
    ref.backward(g.double())
    rows = x.numel() // int(np.prod(ns))
    check(out, ref.to(tdt(dtype)).double(), dtype)
    check(vx.grad, tx.grad, dtype, scale=4)
    if w is not None:
        check(vw.grad, tw.grad, dtype, scale=4 * max(1, rows) ** 0.5)


def test_norm_saved_statistics_and_cpu_agreement():
    """native_layer_norm's mean and rstd are float32 for half input and match the CPU kernel."""
    x = rand((6, 40), "float16", 8)
    out, mean, rstd = ops.native_layer_norm(from_torch(x), [40], None, None, 1e-5)
    out_c, mean_c, rstd_c = ops.native_layer_norm(from_torch(x, CPU), [40], None, None, 1e-5)
    assert mean.dtype == DT.float32 and rstd.dtype == DT.float32
    torch.testing.assert_close(to_torch(mean), to_torch(mean_c), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(to_torch(rstd), to_torch(rstd_c), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(to_torch(out).float(), to_torch(out_c).float(), rtol=1e-3, atol=1e-3)
    o2, r2 = ops.native_rms_norm(from_torch(x), [40], None, None)
    assert r2.dtype == DT.float32 and tuple(r2.shape) == (6,)


def test_norm_backward_is_deterministic_and_non_contiguous_input():
    base = rand((64, 96), "float32", 9)
    x = base.t()  # non-contiguous (96, 64)
    g = rand((96, 64), "float32", 10)
    w = rand((64,), "float32", 11)
    grads = []
    for _ in range(2):
        vx = leaf(base)
        vw = leaf(w)
        out = ops.layer_norm(ops.transpose(vx, 0, 1), [64], vw, None, 1e-5)
        backward(out, g)
        grads.append((to_torch(vx.grad), to_torch(vw.grad)))
    assert torch.equal(grads[0][0], grads[1][0]) and torch.equal(grads[0][1], grads[1][1])
    tx = x.double().requires_grad_()
    tw = w.double().requires_grad_()
    torch.nn.functional.layer_norm(tx, [64], tw, None, 1e-5).backward(g.double())
    check(vx.grad, tx.grad.t(), "float32", scale=4)
    check(vw.grad, tw.grad, "float32", scale=40)


def test_norm_errors():
    x = from_torch(rand((4, 8), "float32", 12))
    with pytest.raises(ValueError, match="normalized_shape"):
        ops.layer_norm(x, [7], None, None, 1e-5)
    with pytest.raises(ValueError, match="weight of shape"):
        ops.layer_norm(x, [8], from_torch(rand((4,), "float32", 1)), None, 1e-5)
    with pytest.raises(TypeError, match="floating point"):
        ops.rms_norm(ops.to_dtype(x, DT.int64), [8], None, None)
    with pytest.raises(RuntimeError, match="device"):
        ops.layer_norm(x, [8], from_torch(rand((8,), "float32", 1), CPU), None, 1e-5)


# ---- nll_loss / cross_entropy ----------------------------------------------------------------------

def targets(shape, C, seed, ignore=None):
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, C, shape, generator=g)
    if ignore is not None and t.numel() > 1:
        t.view(-1)[::3] = ignore
    return t


LOSS_SHAPES = [((8, 5), (8,)), ((5,), ()), ((4, 6, 3), (4, 3)), ((300, 1000), (300,))]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", LOSS_SHAPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("ignore", [None, 2])
@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
def test_losses_forward_backward(dtype, shapes, reduction, ignore, fn):
    xs, ts = shapes
    C = xs[1] if len(xs) > 1 else xs[0]
    x = rand(xs, dtype, 13)
    t = targets(ts, C, 14, ignore)
    ii = -100 if ignore is None else ignore
    vx = leaf(x)
    out = getattr(ops, fn)(vx, from_torch(t), ii, reduction)
    tx = x.double().requires_grad_()
    ref = getattr(torch.nn.functional, fn)(tx, t, ignore_index=ii, reduction=reduction)
    g = rand(tuple(ref.shape), dtype, 15)
    backward(out, g)
    ref.backward(g.double())
    n = max(1, t.numel())
    check(out, ref, dtype, scale=4 * (n ** 0.5 if reduction != "none" else 1))
    check(vx.grad, tx.grad, dtype, scale=4)


def test_nll_loss_mean_all_ignored_is_nan():
    x = from_torch(rand((3, 4), "float32", 16))
    t = from_torch(torch.full((3,), -100, dtype=torch.int64))
    out = to_torch(ops.nll_loss(x, t, -100, "mean"))
    assert torch.isnan(out).item()
    assert to_torch(ops.nll_loss(x, t, -100, "sum")).item() == 0.0


def test_nll_loss_target_out_of_bounds_raises_in_sync_mode():
    x = from_torch(rand((3, 4), "float32", 17))
    bad = from_torch(torch.tensor([0, 4, 1]))
    with vt.policy.override("checks.cuda_index=sync"):
        for reduction in ("none", "sum", "mean"):
            with pytest.raises(IndexError, match="index 4 is out of bounds"):
                ops.nll_loss(x, bad, -100, reduction)
        with pytest.raises(IndexError, match="index -1 is out of bounds"):
            ops.nll_loss(x, from_torch(torch.tensor([0, -1, 1])), -100, "mean")
        with pytest.raises(IndexError, match="out of bounds"):
            ops.nll_loss_backward(from_torch(torch.tensor(1.0)), x, bad, -100, "mean")


def test_nll_loss_checks_add_no_host_sync_by_default():
    x = from_torch(rand((64, 10), "float32", 18))
    t = from_torch(targets((64,), 10, 19))
    vt.cuda.synchronize()
    vt.cuda.reset_sync_ledger()
    ops.nll_loss(x, t, -100, "mean")
    ops.embedding(x, t)
    assert "nll_loss" not in vt.cuda.sync_ledger() and "embedding" not in vt.cuda.sync_ledger()


def test_loss_errors():
    x = from_torch(rand((3, 4), "float32", 20))
    with pytest.raises(TypeError, match="int64"):
        ops.nll_loss(x, from_torch(torch.tensor([0, 1, 2], dtype=torch.int32)), -100, "mean")
    with pytest.raises(ValueError, match="batch_size"):
        ops.nll_loss(x, from_torch(torch.tensor([0, 1])), -100, "mean")
    with pytest.raises(ValueError, match="reduction"):
        ops.nll_loss(x, from_torch(torch.tensor([0, 1, 2])), -100, "avg")
    with pytest.raises(RuntimeError, match="same device"):
        ops.nll_loss(x, from_torch(torch.tensor([0, 1, 2]), CPU), -100, "mean")


# ---- dropout ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_same_mask_on_cpu_and_cuda(dtype, p):
    x = rand((37, 129), dtype, 21)
    vt.manual_seed(1234)
    out_c, mask_c = ops.native_dropout(from_torch(x, CPU), p)
    vt.manual_seed(1234)
    out_g, mask_g = ops.native_dropout(from_torch(x), p)
    assert mask_g.dtype == DT.bool
    assert torch.equal(to_torch(mask_g), to_torch(mask_c))
    assert torch.equal(to_torch(out_g), to_torch(out_c))
    keep = to_torch(mask_g).double().mean().item()
    assert abs(keep - (1 - p)) < 0.05
    expected = x.double() * to_torch(mask_g).double() / (1 - p)
    check(out_g, expected.to(tdt(dtype)).double(), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_dropout_backward_and_edge_probabilities(dtype):
    x, g = rand((16, 33), dtype, 22), rand((16, 33), dtype, 23)
    vx = leaf(x)
    vt.manual_seed(7)
    out = ops.dropout(vx, 0.3, True)
    backward(out, g)
    mask = (to_torch(out).double() != 0) | (x.double() == 0)
    check(vx.grad, (g.double() * mask.double() / 0.7).to(tdt(dtype)).double(), dtype)
    # p = 0 and train=False give the input itself; p = 1 gives zeros and a zero gradient.
    vx0 = from_torch(x)
    assert ops.dropout(vx0, 0.0, True) is vx0 or torch.equal(to_torch(ops.dropout(vx0, 0.0, True)), x)
    assert torch.equal(to_torch(ops.dropout(vx0, 0.5, False)), x)
    vx1 = leaf(x)
    out1 = ops.dropout(vx1, 1.0, True)
    assert to_torch(out1).abs().sum().item() == 0
    backward(out1, g)
    assert to_torch(vx1.grad).abs().sum().item() == 0
    # non-contiguous grad
    gt = rand((33, 16), dtype, 24)
    _, mask_t = ops.native_dropout(from_torch(x), 0.5)
    gi = ops.dropout_backward(ops.transpose(from_torch(gt), 0, 1), mask_t, 2.0)
    check(gi, (gt.t().double() * to_torch(mask_t).double() * 2.0).to(tdt(dtype)).double(), dtype)


def test_dropout_errors():
    x = from_torch(rand((4, 4), "float32", 25))
    with pytest.raises(ValueError, match="between 0 and 1"):
        ops.dropout(x, 1.5, True)
    with pytest.raises(ValueError, match="0 < p < 1"):
        ops.native_dropout(x, 1.0)
    with pytest.raises(TypeError, match="floating point"):
        ops.dropout(ops.to_dtype(x, DT.int64), 0.5, True)
    with pytest.raises(ValueError, match="does not match the mask"):
        ops.dropout_backward(x, ops.native_dropout(from_torch(rand((4, 5), "float32", 1)), 0.5)[1], 2.0)


# ---- embedding -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("index_dtype", ["int64", "int32"])
@pytest.mark.parametrize("shape", [(17,), (4, 9), (2, 3, 5)])
def test_embedding_forward_backward_repeated_indices(dtype, index_dtype, shape):
    V, D = 11, 24
    w = rand((V, D), dtype, 26)
    idx = targets(shape, 4, 27).to(tdt(index_dtype))  # only rows 0..3: many repeats
    g = rand(tuple(shape) + (D,), dtype, 28)
    vw = leaf(w)
    out = ops.embedding(vw, from_torch(idx))
    backward(out, g)
    tw = w.double().requires_grad_()
    ref = torch.nn.functional.embedding(idx.long(), tw)
    ref.backward(g.double())
    assert torch.equal(to_torch(out), w[idx.long()])
    check(vw.grad, tw.grad, dtype, scale=4)


def test_embedding_backward_is_deterministic_and_non_contiguous_weight():
    V, D, n = 1000, 64, 20000
    idx = targets((n,), 50, 29)
    g = rand((n, D), "float32", 30)
    r1 = to_torch(ops.embedding_backward(from_torch(g), from_torch(idx), V))
    r2 = to_torch(ops.embedding_backward(from_torch(g), from_torch(idx), V))
    assert torch.equal(r1, r2)
    ref = torch.zeros(V, D, dtype=torch.float64).index_add_(0, idx, g.double())
    torch.testing.assert_close(r1.double(), ref, rtol=1e-4, atol=1e-3)
    wt = rand((D, V), "float32", 31)
    out = ops.embedding(ops.transpose(from_torch(wt), 0, 1), from_torch(idx[:100]))
    assert torch.equal(to_torch(out), wt.t()[idx[:100]])


def test_embedding_errors():
    w = from_torch(rand((5, 3), "float32", 32))
    with vt.policy.override("checks.cuda_index=sync"):
        with pytest.raises(IndexError, match="index 5 is out of bounds"):
            ops.embedding(w, from_torch(torch.tensor([0, 5, 1])))
        with pytest.raises(IndexError, match="index -2 is out of bounds"):
            ops.embedding(w, from_torch(torch.tensor([[0, -2]])))
    with pytest.raises(TypeError, match="int64 or int32"):
        ops.embedding(w, from_torch(torch.tensor([0.0, 1.0])))
    with pytest.raises(ValueError, match="2-D"):
        ops.embedding(from_torch(rand((5,), "float32", 1)), from_torch(torch.tensor([0])))
    with pytest.raises(ValueError, match="indices.shape"):
        ops.embedding_backward(from_torch(rand((3, 4), "float32", 1)), from_torch(torch.tensor([0, 1])), 5)
