"""softmax, log_softmax, layer_norm, rms_norm, nll_loss, cross_entropy, dropout and
scaled_dot_product_attention against torch: forward, backward, layouts, dtypes, errors."""
import pytest
import torch
import torch.nn.functional as F

from vibetensor import _C
from _torch_ref import assert_close, backward, leaf, ops, to_torch, to_vt, weighted_sum

FLOATS = [torch.float32, torch.float64]
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-10)}


def run_both(vt_fn, torch_fn, inputs, grad_of, tol, seed=7):
    """Runs vt_fn and torch_fn on copies of inputs (a list of torch tensors; None passes through),
    compares outputs, then the gradients of sum(out * w) for the inputs flagged in grad_of."""
    t_in = [None if x is None else x.clone().requires_grad_(g) for x, g in zip(inputs, grad_of)]
    ref = torch_fn(*t_in)
    w = leaf(ref.shape, ref.dtype, seed=seed)
    if any(grad_of):
        (ref * w).sum().backward()
    v_in = [None if x is None else to_vt(x, requires_grad=g) for x, g in zip(inputs, grad_of)]
    out = vt_fn(*v_in)
    assert_close(out, ref.detach(), **tol)
    if any(grad_of):
        backward(weighted_sum(out, w))
        for tv, vv, g in zip(t_in, v_in, grad_of):
            if g:
                assert_close(vv.grad, tv.grad, **tol)
    return out


# ---- softmax ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("log", [False, True])
def test_softmax(dtype, dim, log):
    name = "log_softmax" if log else "softmax"
    x = leaf((4, 5, 6), dtype, scale=3.0)
    run_both(lambda v: getattr(ops, name)(v, dim), lambda t: getattr(torch, name)(t, dim), [x], [True], TOL[dtype])


@pytest.mark.parametrize("shape,dim", [((300, 1000), 1), ((40, 300, 30), 1), ((500, 70), 0)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_large_and_noncontiguous(shape, dim, log):
    # Large enough for the threaded paths; the transposed input is copied first.
    name = "log_softmax" if log else "softmax"
    x = leaf(shape, torch.float32, scale=5.0)
    run_both(lambda v: getattr(ops, name)(v, dim), lambda t: getattr(torch, name)(t, dim), [x], [True], TOL[torch.float32])
    run_both(lambda v: getattr(ops, name)(ops.transpose(v, 0, -1), dim),
             lambda t: getattr(torch, name)(t.transpose(0, -1), dim), [x], [True], TOL[torch.float32])


@pytest.mark.parametrize("log", [False, True])
def test_softmax_stability_and_masking(log):
    name = "log_softmax" if log else "softmax"
    x = torch.tensor([[1000.0, 1001.0, -1000.0, 999.0], [0.0, float("-inf"), 1.0, float("-inf")],
                      [-1e4, -1e4 + 1, -1e4 + 2, -1e4 + 3]])
    for dim in [1, 0]:
        assert_close(getattr(ops, name)(to_vt(x), dim), getattr(torch, name)(x, dim))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_backward_ops(dtype, dim):
    out = torch.softmax(leaf((6, 7), dtype), dim)
    g = leaf((6, 7), dtype, seed=2)
    assert_close(ops.softmax_backward(to_vt(g), to_vt(out), dim), torch._softmax_backward_data(g, out, dim, dtype), **TOL[dtype])
    lout = torch.log_softmax(leaf((6, 7), dtype), dim)
    assert_close(ops.log_softmax_backward(to_vt(g), to_vt(lout), dim),
                 torch._log_softmax_backward_data(g, lout, dim, dtype), **TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_softmax_low_precision_forward(dtype):
    x = leaf((8, 100), dtype, scale=3.0)
    for name in ["softmax", "log_softmax"]:
        for dim in [0, 1]:
            got = to_torch(getattr(ops, name)(to_vt(x), dim))
            assert got.dtype == dtype
            torch.testing.assert_close(got.float(), getattr(torch, name)(x.float(), dim), rtol=2e-2, atol=2e-2)


def test_softmax_zero_dim():
    s = torch.tensor(1.5)
    assert_close(ops.softmax(to_vt(s), 0), torch.softmax(s, 0))
    assert_close(ops.log_softmax(to_vt(s), -1), torch.log_softmax(s, -1))


def test_softmax_errors():
    with pytest.raises(IndexError):
        ops.softmax(to_vt(leaf((3, 4))), 2)
    with pytest.raises(IndexError):
        ops.log_softmax(to_vt(leaf((3, 4))), -3)
    with pytest.raises(TypeError):
        ops.softmax(to_vt(torch.ones(3, dtype=torch.int64)), 0)
    with pytest.raises(ValueError):
        ops.softmax_backward(to_vt(leaf((3, 4))), to_vt(leaf((4, 3))), 0)


# ---- layer_norm / rms_norm -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nshape", [[8], [6, 8]])
@pytest.mark.parametrize("affine", ["none", "weight", "both", "bias"])
def test_layer_norm(dtype, nshape, affine):
    x = leaf((4, 6, 8), dtype, scale=2.0) + 3
    w = leaf(nshape, dtype, seed=3) if affine in ("weight", "both") else None
    b = leaf(nshape, dtype, seed=4) if affine in ("bias", "both") else None
    run_both(lambda xv, wv, bv: ops.layer_norm(xv, nshape, wv, bv, 1e-5),
             lambda xt, wt, bt: F.layer_norm(xt, nshape, wt, bt, 1e-5),
             [x, w, b], [True, w is not None, b is not None], TOL[dtype])


def test_layer_norm_large_noncontiguous_and_partial_grads():
    # 512 rows x 256 features: the threaded forward and backward (per-thread dw/db partials).
    base = leaf((2, 256, 256), torch.float32)
    w, b = leaf((256,), seed=5), leaf((256,), seed=6)
    run_both(lambda xv, wv, bv: ops.layer_norm(ops.transpose(xv, 1, 2), [256], wv, bv, 1e-5),
             lambda xt, wt, bt: F.layer_norm(xt.transpose(1, 2), [256], wt, bt, 1e-5),
             [base, w, b], [True, True, True], dict(rtol=1e-4, atol=1e-4))
    # Only the weight requires grad (a frozen input).
    run_both(lambda xv, wv: ops.layer_norm(xv, [256], wv), lambda xt, wt: F.layer_norm(xt, [256], wt),
             [base, w], [False, True], dict(rtol=1e-4, atol=1e-4))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("with_weight", [False, True])
@pytest.mark.parametrize("nshape", [[8], [6, 8]])
def test_rms_norm(dtype, eps, with_weight, nshape):
    x = leaf((4, 6, 8), dtype, scale=2.0)
    w = leaf(nshape, dtype, seed=3) if with_weight else None
    run_both(lambda xv, wv: ops.rms_norm(xv, nshape, wv, eps), lambda xt, wt: F.rms_norm(xt, nshape, wt, eps),
             [x, w], [True, with_weight], TOL[dtype])


def test_rms_norm_default_eps_is_machine_epsilon():
    # Tiny inputs make eps dominate, so a wrong default shows.
    x = leaf((3, 16), torch.float32, scale=1e-4)
    assert_close(ops.rms_norm(to_vt(x), [16]), F.rms_norm(x, [16]), rtol=1e-5, atol=1e-5)
    x64 = leaf((3, 16), torch.float64, scale=1e-8)
    assert_close(ops.rms_norm(to_vt(x64), [16]), F.rms_norm(x64, [16]), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_norm_low_precision_forward(dtype):
    x = leaf((5, 64), dtype, scale=2.0)
    w, b = leaf((64,), dtype, seed=1), leaf((64,), dtype, seed=2)
    tol = dict(rtol=3e-2, atol=3e-2)
    got = to_torch(ops.layer_norm(to_vt(x), [64], to_vt(w), to_vt(b)))
    assert got.dtype == dtype
    torch.testing.assert_close(got.float(), F.layer_norm(x.float(), [64], w.float(), b.float()), **tol)
    got = to_torch(ops.rms_norm(to_vt(x), [64], to_vt(w)))
    torch.testing.assert_close(got.float(), F.rms_norm(x.float(), [64], w.float()), **tol)


def test_norm_errors():
    xv = to_vt(leaf((2, 3)))
    with pytest.raises(ValueError, match="normalized_shape"):
        ops.layer_norm(xv, [4])
    with pytest.raises(ValueError, match="normalized_shape"):
        ops.rms_norm(xv, [2, 3, 1])
    with pytest.raises(ValueError):
        ops.layer_norm(xv, [])
    with pytest.raises(ValueError, match="weight"):
        ops.layer_norm(xv, [3], to_vt(torch.ones(4)))
    with pytest.raises(ValueError, match="bias"):
        ops.layer_norm(xv, [3], None, to_vt(torch.ones(2)))
    with pytest.raises(ValueError, match="weight"):
        ops.rms_norm(xv, [3], to_vt(torch.ones(3, 1)))
    with pytest.raises(TypeError):
        ops.layer_norm(to_vt(torch.ones(2, 3, dtype=torch.int64)), [3])


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
def test_nll_and_cross_entropy(dtype, shapes, reduction, ignore_index, name):
    in_shape, t_shape = shapes
    x = leaf(in_shape, dtype, scale=2.0)
    t = targets(t_shape, in_shape[0] if len(in_shape) == 1 else in_shape[1], seed=8, ignore=ignore_index)
    tv = to_vt(t)
    run_both(lambda xv: getattr(ops, name)(xv, tv, ignore_index, reduction),
             lambda xt: getattr(F, name)(xt, t, ignore_index=ignore_index, reduction=reduction), [x], [True], TOL[dtype])


def test_nll_loss_all_ignored_mean_is_nan():
    x, t = leaf((3, 4)), torch.full((3,), -100)
    assert_close(ops.nll_loss(to_vt(x), to_vt(t)), F.nll_loss(x, t), equal_nan=True)


@pytest.mark.parametrize("shape", [(6, 5), (5,), (3, 4, 2, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_probabilities(shape, reduction):
    cdim = 0 if len(shape) == 1 else 1
    x = leaf(shape, torch.float64)
    p = torch.softmax(leaf(shape, torch.float64, seed=9), cdim)
    run_both(lambda xv, pv: ops.cross_entropy(xv, pv, -100, reduction),
             lambda xt, pt: F.cross_entropy(xt, pt, reduction=reduction), [x, p], [True, True], TOL[torch.float64])


def test_loss_errors():
    xv = to_vt(leaf((3, 4)))
    good = to_vt(torch.tensor([0, 1, 3]))
    with pytest.raises(ValueError, match="reduction"):
        ops.nll_loss(xv, good, -100, "avg")
    with pytest.raises(ValueError, match="reduction"):
        ops.cross_entropy(xv, good, -100, "Mean")
    with pytest.raises(IndexError, match="out of bounds"):
        ops.nll_loss(xv, to_vt(torch.tensor([0, 4, 1])))
    with pytest.raises(IndexError, match="out of bounds"):
        ops.cross_entropy(xv, to_vt(torch.tensor([0, -1, 1])))
    with pytest.raises(ValueError, match="batch_size"):
        ops.nll_loss(xv, to_vt(torch.tensor([0, 1])))
    with pytest.raises(ValueError):
        ops.nll_loss(to_vt(leaf((2, 3, 4))), to_vt(torch.zeros(2, 5, dtype=torch.int64)))
    with pytest.raises(TypeError, match="int64"):
        ops.nll_loss(xv, to_vt(torch.tensor([0, 1, 3], dtype=torch.int32)))
    with pytest.raises(ValueError):
        ops.nll_loss(to_vt(torch.tensor(1.0)), to_vt(torch.tensor(0)))
    with pytest.raises(ValueError, match="shape"):
        ops.cross_entropy(xv, to_vt(leaf((3, 5))))


# ---- dropout ---------------------------------------------------------------------------------

def test_dropout_mask_scale_and_backward():
    x = leaf((200, 500), torch.float32) + 5.0  # never zero, so kept elements are the nonzero outputs
    p = 0.3
    xv = to_vt(x, requires_grad=True)
    _C.manual_seed(123)
    out = ops.dropout(xv, p, True)
    o = to_torch(out)
    kept = o != 0
    assert abs(kept.float().mean().item() - (1 - p)) < 0.01
    torch.testing.assert_close(o, torch.where(kept, x / (1 - p), torch.zeros(())))
    w = leaf(x.shape, seed=4)
    backward(weighted_sum(out, w))
    torch.testing.assert_close(to_torch(xv.grad), torch.where(kept, w / (1 - p), torch.zeros(())))
    # The same seed gives the same mask (with or without autograd); the next call a fresh one.
    _C.manual_seed(123)
    again = to_torch(ops.dropout(to_vt(x), p, True))
    torch.testing.assert_close(again, o)
    assert not torch.equal(to_torch(ops.dropout(to_vt(x), p, True)) != 0, kept)


def test_dropout_identity_and_all_dropped():
    x = leaf((4, 5))
    xv = to_vt(x, requires_grad=True)
    assert ops.dropout(xv, 0.5, False)._is_same(xv)
    assert ops.dropout(xv, 0.0, True)._is_same(xv)
    out = ops.dropout(xv, 1.0, True)
    assert_close(out, torch.zeros(4, 5))
    backward(ops.sum(out))
    assert_close(xv.grad, torch.zeros(4, 5))


def test_dropout_errors():
    xv = to_vt(leaf((4, 5)))
    for p in [-0.1, 1.5]:
        with pytest.raises(ValueError, match="between 0 and 1"):
            ops.dropout(xv, p, True)
    with pytest.raises(TypeError):
        ops.dropout(to_vt(torch.ones(3, dtype=torch.int64)), 0.5, True)


# ---- scaled_dot_product_attention ------------------------------------------------------------

def require_matmul():
    try:
        ops.matmul(to_vt(torch.ones(2, 2)), to_vt(torch.ones(2, 2)))
    except NotImplementedError:
        pytest.skip("vt::matmul has no kernel on this branch yet (it comes from the linear algebra work)")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", ["plain", "causal", "bool_mask", "float_mask", "scale"])
def test_sdpa(dtype, mode):
    require_matmul()
    q, k, v = leaf((2, 3, 5, 8), dtype, 1), leaf((2, 3, 7, 8), dtype, 2), leaf((2, 3, 7, 4), dtype, 3)
    mask = None
    if mode == "bool_mask":
        mask = torch.rand(5, 7, generator=torch.Generator().manual_seed(4)) > 0.4
        mask[:, 0] = True  # every query sees at least one key
    elif mode == "float_mask":
        mask = leaf((3, 5, 7), dtype, 5)
    kw = dict(is_causal=mode == "causal", scale=0.3 if mode == "scale" else None)
    mv = None if mask is None else to_vt(mask)
    run_both(lambda a, b, c: ops.scaled_dot_product_attention(a, b, c, mv, 0.0, kw["is_causal"], kw["scale"]),
             lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask, **kw),
             [q, k, v], [True, True, True], TOL[dtype])


def test_sdpa_dropout_is_seeded():
    require_matmul()
    q, k, v = (to_vt(leaf((2, 4, 8), seed=s)) for s in (1, 2, 3))
    _C.manual_seed(5)
    a = to_torch(ops.scaled_dot_product_attention(q, k, v, None, 0.5))
    _C.manual_seed(5)
    b = to_torch(ops.scaled_dot_product_attention(q, k, v, None, 0.5))
    c = to_torch(ops.scaled_dot_product_attention(q, k, v, None, 0.0))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


def test_sdpa_mask_dtypes():
    require_matmul()
    q, k, v = (leaf((2, 4, 8), torch.float32, s) for s in (1, 2, 3))
    m64 = leaf((4, 4), torch.float64, 4)
    out = ops.scaled_dot_product_attention(to_vt(q), to_vt(k), to_vt(v), to_vt(m64))
    assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=m64.float()), rtol=1e-5, atol=1e-5)
    with pytest.raises(TypeError, match="attn_mask"):
        ops.scaled_dot_product_attention(to_vt(q), to_vt(k), to_vt(v), to_vt(torch.ones(4, 4, dtype=torch.int64)))


def test_sdpa_errors():
    q = to_vt(leaf((2, 4, 8)))
    with pytest.raises(ValueError, match="is_causal"):
        ops.scaled_dot_product_attention(q, q, q, to_vt(torch.ones(4, 4, dtype=torch.bool)), 0.0, True)
    with pytest.raises(ValueError, match="embedding"):
        ops.scaled_dot_product_attention(q, to_vt(leaf((2, 4, 7))), q)
    with pytest.raises(ValueError, match="sequence length"):
        ops.scaled_dot_product_attention(q, q, to_vt(leaf((2, 5, 8))))
    with pytest.raises(ValueError):
        ops.scaled_dot_product_attention(to_vt(leaf((8,))), q, q)
