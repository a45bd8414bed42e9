"""matmul (and the bmm / linear composites over it) against torch: forward, backward, layouts, errors."""
import numpy as np
import pytest
import torch

import vibetensor  # noqa: F401  (loads BLAS before _C)
from vibetensor import _C

ops = _C._ops
TOL = {torch.float32: dict(rtol=1e-4, atol=1e-4), torch.float64: dict(rtol=1e-10, atol=1e-10)}


def vt(x, requires_grad=False):
    """A vibetensor copy of a torch tensor (strides preserved)."""
    t = _C._from_dlpack_capsule(x.detach().clone().__dlpack__()) if x.is_contiguous() else \
        _C._from_dlpack_capsule(x.detach().__dlpack__())
    if requires_grad:
        t.requires_grad = True
    return t


def th(t):
    return torch.from_dlpack(t.detach())


def has_sum():
    try:
        ops.sum(vt(torch.ones(2)))
        return True
    except NotImplementedError:
        return False


needs_sum = pytest.mark.skipif(not has_sum(), reason="vt::sum is not implemented yet (reductions land separately)")


def check_matmul(ta, tb, dtype=torch.float32, a=None, b=None):
    """ta, tb: torch leaves; a, b: the matching vibetensor operands (views) when not plain copies."""
    a = vt(ta) if a is None else a
    b = vt(tb) if b is None else b
    a.requires_grad = True
    b.requires_grad = True
    ta = ta.detach().requires_grad_(True)
    tb = tb.detach().requires_grad_(True)
    ref = torch.matmul(ta, tb)
    out = ops.matmul(a, b)
    assert tuple(out.shape) == tuple(ref.shape)
    torch.testing.assert_close(th(out), ref.detach(), **TOL[dtype])
    g = torch.randn(ref.shape, dtype=dtype)
    ref.backward(g)
    _C._backward([out], [vt(g)], False)
    assert tuple(a.grad.shape) == tuple(ta.shape) and tuple(b.grad.shape) == tuple(tb.shape)
    torch.testing.assert_close(th(a.grad), ta.grad, **TOL[dtype])
    torch.testing.assert_close(th(b.grad), tb.grad, **TOL[dtype])


SHAPES = [
    ((5,), (5,)),                   # dot
    ((3, 5), (5,)),                 # mv
    ((5,), (5, 4)),                 # vector @ matrix
    ((3, 5), (5, 4)),               # mm
    ((2, 3, 5), (5, 4)),            # batched @ shared matrix (folds into one gemm)
    ((2, 3, 5), (5,)),
    ((5,), (2, 5, 4)),
    ((3, 5), (2, 2, 5, 4)),         # shared left matrix
    ((2, 3, 5), (2, 5, 4)),         # bmm
    ((1, 3, 5), (4, 5, 2)),         # broadcast batch, left batch all ones
    ((2, 3, 5), (1, 5, 4)),         # broadcast batch, right batch all ones
    ((64, 8, 8), (64, 8, 8)),       # many small products (parallel batches)
    ((40, 70), (70, 90)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_matmul_shapes(sa, sb, dtype):
    torch.manual_seed(0)
    check_matmul(torch.randn(sa, dtype=dtype), torch.randn(sb, dtype=dtype), dtype)


@needs_sum
@pytest.mark.parametrize("sa,sb", [((2, 1, 3, 5), (4, 5, 6)), ((3, 1, 2, 4), (1, 5, 4, 3))])
def test_matmul_broadcast_batch_needing_reduction(sa, sb):
    check_matmul(torch.randn(sa, dtype=torch.float64), torch.randn(sb, dtype=torch.float64), torch.float64)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matmul_transposed_operands(dtype):
    # Transposed views reach gemm as Trans operands; results and grads must not change.
    for sa, sb in [((4, 6), (7, 4)), ((3, 4, 6), (3, 7, 4)), ((3, 4, 6), (7, 4))]:
        xa, xb = torch.randn(sa, dtype=dtype), torch.randn(sb, dtype=dtype)
        a = ops.transpose(vt(xa), -1, -2)
        b = ops.transpose(vt(xb), -1, -2)
        assert not a.is_contiguous() and not b.is_contiguous()
        check_matmul(xa.transpose(-1, -2).contiguous(), xb.transpose(-1, -2).contiguous(), dtype, a, b)


def test_matmul_strided_and_expanded_operands():
    base = torch.randn(2, 5, 12, dtype=torch.float64)
    # Rows not evenly spaced across batches (no fold), columns unit-stride.
    check_matmul(base[:, :3, :6].contiguous(), torch.randn(6, 4, dtype=torch.float64), torch.float64,
                 a=ops.slice(ops.slice(vt(base), 1, 0, 3, 1), 2, 0, 6, 1))
    # Neither dim unit-stride: copied before gemm.
    check_matmul(base[:, :, ::2].contiguous(), torch.randn(2, 6, 3, dtype=torch.float64), torch.float64,
                 a=ops.slice(vt(base), 2, None, None, 2))
    # A stride-0 batch dim (expand) and a stride-0 column dim.
    x = torch.randn(1, 3, 4, dtype=torch.float64)
    col = torch.randn(4, 1, dtype=torch.float64)
    a = ops.expand(vt(x), [5, 3, 4])
    b = ops.expand(vt(col), [4, 6])
    out = ops.matmul(a, b)
    torch.testing.assert_close(th(out), x.expand(5, 3, 4) @ col.expand(4, 6), **TOL[torch.float64])


def test_matmul_large_against_torch():
    torch.manual_seed(1)
    xa, xb = torch.randn(130, 257), torch.randn(257, 190)
    torch.testing.assert_close(th(ops.matmul(vt(xa), vt(xb))), xa @ xb, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])
def test_matmul_integer(dtype):
    xa = torch.randint(-5, 5, (2, 3, 4), dtype=dtype)
    xb = torch.randint(-5, 5, (4, 6), dtype=dtype)
    a = ops.transpose(vt(xa.transpose(-1, -2).contiguous()), -1, -2)
    assert torch.equal(th(ops.matmul(a, vt(xb))), xa @ xb)
    assert torch.equal(th(ops.matmul(vt(xa[0, 0]), vt(xb))), xa[0, 0] @ xb)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_matmul_half_smoke(dtype):
    xa, xb = torch.randn(2, 8, 16).to(dtype), torch.randn(16, 4).to(dtype)
    a, b = vt(xa), vt(xb)
    a.requires_grad = True
    out = ops.matmul(a, b)
    assert out.dtype == getattr(_C.dtype, str(dtype).split(".")[1])
    ref = xa.float() @ xb.float()
    torch.testing.assert_close(th(out).float(), ref, rtol=2e-2, atol=5e-2)
    g = torch.randn(2, 8, 4).to(dtype)
    _C._backward([out], [vt(g)], False)
    torch.testing.assert_close(th(a.grad).float(), g.float() @ xb.float().T, rtol=2e-2, atol=5e-2)


def test_matmul_empty_and_zero_inner():
    out = ops.matmul(vt(torch.randn(3, 0)), vt(torch.randn(0, 4)))
    assert torch.equal(th(out), torch.zeros(3, 4))
    assert tuple(ops.matmul(vt(torch.randn(0, 3, 5)), vt(torch.randn(5, 2))).shape) == (0, 3, 2)


def test_bmm_and_linear():
    xa, xb = torch.randn(3, 4, 5, dtype=torch.float64), torch.randn(3, 5, 2, dtype=torch.float64)
    torch.testing.assert_close(th(ops.bmm(vt(xa), vt(xb))), torch.bmm(xa, xb))
    # linear: input (B, T, in) @ W^T; W's gradient comes from the folded (B*T) product.
    x, w = torch.randn(2, 3, 5, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64)
    vx, vw = vt(x, True), vt(w, True)
    out = ops.linear(vx, vw, None)
    tx, tw = x.clone().requires_grad_(), w.clone().requires_grad_()
    ref = torch.nn.functional.linear(tx, tw)
    torch.testing.assert_close(th(out), ref.detach())
    g = torch.randn(2, 3, 4, dtype=torch.float64)
    ref.backward(g)
    _C._backward([out], [vt(g)], False)
    torch.testing.assert_close(th(vw.grad), tw.grad)
    torch.testing.assert_close(th(vx.grad), tx.grad)


def test_matmul_errors():
    with pytest.raises(ValueError, match=r"\[3, 4\].*\[5, 6\]"):
        ops.matmul(vt(torch.randn(3, 4)), vt(torch.randn(5, 6)))
    with pytest.raises(ValueError, match=r"\[2, 3, 4\].*\[2, 5, 6\]"):
        ops.matmul(vt(torch.randn(2, 3, 4)), vt(torch.randn(2, 5, 6)))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        ops.matmul(vt(torch.randn(2, 3, 4)), vt(torch.randn(3, 4, 5)))
    with pytest.raises(ValueError, match="at least 1-D"):
        ops.matmul(vt(torch.tensor(1.0)), vt(torch.randn(3)))
    with pytest.raises(TypeError, match="float32 and float64"):
        ops.matmul(vt(torch.randn(2, 2)), vt(torch.randn(2, 2, dtype=torch.float64)))
    with pytest.raises(TypeError, match="bool"):
        ops.matmul(vt(torch.ones(2, 2, dtype=torch.bool)), vt(torch.ones(2, 2, dtype=torch.bool)))
