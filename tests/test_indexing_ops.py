"""embedding, cat, gather, index_select, masked_select, scatter_add, index_add, triu, tril against
torch: forward, backward (random upstream gradients), non-contiguous inputs, dtypes, errors."""
import pytest
import torch

import vibetensor  # noqa: F401  (loads BLAS before _C)
from vibetensor import _C

ops = _C._ops
FLOATS = [torch.float32, torch.float64]


def vt(x):
    """A vibetensor copy of a torch tensor, or a view sharing its memory when x is non-contiguous
    (strides preserved)."""
    return _C._from_dlpack_capsule((x.detach().clone() if x.is_contiguous() else x.detach()).__dlpack__())


def th(t):
    return torch.from_dlpack(t.detach())


def has_sum():
    try:
        ops.sum(vt(torch.ones(2)))
        return True
    except NotImplementedError:
        return False


needs_sum = pytest.mark.skipif(not has_sum(), reason="vt::sum is not implemented yet (reductions land separately)")


def check(vt_fn, th_fn, inputs, grad_inputs, vt_inputs=None, tol=None):
    """Runs vt_fn / th_fn on copies of `inputs` (torch tensors); the inputs at positions
    `grad_inputs` require grad. Compares outputs, then the gradients for a random upstream grad."""
    vts = [vt(x) for x in inputs] if vt_inputs is None else list(vt_inputs)
    ths = [x.detach().clone() for x in inputs]
    for i in grad_inputs:
        vts[i].requires_grad = True
        ths[i].requires_grad_(True)
    tol = tol or {}
    out, ref = vt_fn(*vts), th_fn(*ths)
    assert tuple(out.shape) == tuple(ref.shape), (out.shape, ref.shape)
    assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    torch.testing.assert_close(th(out), ref.detach(), **tol)
    if not grad_inputs:
        return
    g = torch.randn(ref.shape, dtype=ref.dtype)
    ref.backward(g)
    _C._backward([out], [vt(g)], False)
    for i in grad_inputs:
        assert vts[i].grad is not None, f"no gradient for input {i}"
        assert tuple(vts[i].grad.shape) == tuple(ths[i].shape)
        torch.testing.assert_close(th(vts[i].grad), ths[i].grad, **tol)


# ---- embedding ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("idx_dtype", [torch.int64, torch.int32])
def test_embedding(dtype, idx_dtype):
    w = torch.randn(10, 4, dtype=dtype)
    idx = torch.tensor([[1, 3, 3], [9, 0, 1]], dtype=idx_dtype)  # repeats: gradients accumulate
    check(ops.embedding, lambda w, i: torch.nn.functional.embedding(i, w), [w, idx], [0])
    check(ops.embedding, lambda w, i: torch.nn.functional.embedding(i, w), [w, torch.tensor(7)], [0])


def test_embedding_noncontiguous_weight():
    wt = torch.randn(4, 10, dtype=torch.float64)
    idx = torch.randint(0, 10, (5, 2))
    check(ops.embedding, lambda w, i: torch.nn.functional.embedding(i, w), [wt.t().contiguous(), idx], [0],
          vt_inputs=[ops.transpose(vt(wt), 0, 1), vt(idx)])


def test_embedding_errors():
    w = vt(torch.randn(10, 4))
    with pytest.raises(IndexError, match=r"index 10 .*10 rows"):
        ops.embedding(w, vt(torch.tensor([0, 10])))
    with pytest.raises(IndexError, match="index -1"):
        ops.embedding(w, vt(torch.tensor([-1])))
    with pytest.raises(TypeError, match="int64 or int32"):
        ops.embedding(w, vt(torch.tensor([0.0])))
    with pytest.raises(ValueError, match=r"2-D.*\[10\]"):
        ops.embedding(vt(torch.randn(10)), vt(torch.tensor([0])))


# ---- cat ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_cat(dim):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, s in enumerate(shapes):
        s[dim] = i + 1
    xs = [torch.randn(s, dtype=torch.float64) for s in shapes]
    check(lambda *t: ops.cat(list(t), dim), lambda *t: torch.cat(list(t), dim), xs, [0, 1, 2])


def test_cat_promotion_and_noncontiguous():
    a = torch.randn(3, 2, dtype=torch.float32)
    b = torch.randn(3, 4, dtype=torch.float64)
    bt = torch.randn(4, 3, dtype=torch.float64)  # given to vibetensor as a transposed view
    c = torch.randint(0, 5, (3, 1))
    check(lambda *t: ops.cat(list(t), 1), lambda *t: torch.cat(list(t), 1), [a, bt.t().contiguous(), c], [0, 1],
          vt_inputs=[vt(a), ops.transpose(vt(bt), 0, 1), vt(c)])
    assert ops.cat([vt(torch.ones(2, dtype=torch.int32)), vt(torch.ones(2, dtype=torch.bool))], 0).dtype == _C.dtype.int32


def test_cat_legacy_empty_and_single():
    x = torch.randn(2, 3, dtype=torch.float64)
    check(lambda a, e: ops.cat([a, e], 0), lambda a, e: torch.cat([a, e], 0), [x, torch.randn(0, dtype=torch.float64)], [0])
    check(lambda a: ops.cat([a], 1), lambda a: torch.cat([a], 1), [x], [0])


def test_cat_errors():
    with pytest.raises(ValueError, match="non-empty"):
        ops.cat([], 0)
    with pytest.raises(ValueError, match=r"\[2, 3\].*\[2, 4\]"):
        ops.cat([vt(torch.randn(2, 3)), vt(torch.randn(2, 4))], 0)
    with pytest.raises(ValueError, match=r"\[2, 3\].*\[2, 3, 1\]"):
        ops.cat([vt(torch.randn(2, 3)), vt(torch.randn(2, 3, 1))], 0)
    with pytest.raises(ValueError, match="zero-dimensional"):
        ops.cat([vt(torch.tensor(1.0))], 0)
    with pytest.raises(IndexError, match="dimension out of range"):
        ops.cat([vt(torch.randn(2, 3))], 2)


# ---- gather / scatter_add ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_gather(dtype, dim):
    x = torch.randn(3, 4, 5, dtype=dtype)
    ishape = [2, 3, 4]
    ishape[dim] = 6  # longer than self along dim: indices repeat, gradients accumulate
    index = torch.randint(0, x.shape[dim], ishape)
    check(lambda s, i: ops.gather(s, dim, i), lambda s, i: torch.gather(s, dim, i), [x, index], [0])


def test_gather_noncontiguous_and_int32():
    xt = torch.randn(5, 4, dtype=torch.float64)
    index = torch.randint(0, 5, (4, 7), dtype=torch.int32)
    check(lambda s, i: ops.gather(s, 1, i), lambda s, i: torch.gather(s, 1, i.long()), [xt.t().contiguous(), index], [0],
          vt_inputs=[ops.transpose(vt(xt), 0, 1), vt(index)])


def test_gather_errors():
    x = vt(torch.randn(3, 4))
    with pytest.raises(IndexError, match=r"index 4 is out of bounds for dimension 1 with size 4"):
        ops.gather(x, 1, vt(torch.tensor([[0, 4]])))
    with pytest.raises(IndexError, match="index -1"):
        ops.gather(x, 1, vt(torch.tensor([[-1]])))
    with pytest.raises(ValueError, match=r"\[3\].*\[3, 4\]"):
        ops.gather(x, 0, vt(torch.tensor([0, 1, 2])))
    with pytest.raises(ValueError, match=r"\[4, 1\].*\[3, 4\]"):
        ops.gather(x, 1, vt(torch.zeros(4, 1, dtype=torch.int64)))
    with pytest.raises(TypeError, match="int64 or int32"):
        ops.gather(x, 1, vt(torch.zeros(1, 1)))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_add(dim):
    x = torch.randn(4, 5, dtype=torch.float64)
    src = torch.randn(4, 6, dtype=torch.float64)
    ishape = [3, 4]  # smaller than src: src elements outside the index get zero gradient
    index = torch.randint(0, x.shape[dim], ishape)
    # torch's own backward rejects a src larger than the index, so the reference reads the window.
    check(lambda s, i, r: ops.scatter_add(s, dim, i, r), lambda s, i, r: torch.scatter_add(s, dim, i, r[:3, :4]),
          [x, index, src], [0, 2])
    check(lambda s, i, r: ops.scatter_add(s, dim, i, r), lambda s, i, r: torch.scatter_add(s, dim, i, r),
          [x, index, src[:3, :4]], [0, 2])


def test_scatter_add_half_and_errors():
    x, src = torch.randn(3, 4).half(), torch.randn(3, 4).half()
    index = torch.randint(0, 3, (3, 4))
    out = ops.scatter_add(vt(x), 0, vt(index), vt(src))
    torch.testing.assert_close(th(out).float(), torch.scatter_add(x.float(), 0, index, src.float()), rtol=1e-2, atol=1e-2)
    s = vt(torch.randn(3, 4))
    with pytest.raises(IndexError, match=r"index 3 is out of bounds for dimension 0 with size 3"):
        ops.scatter_add(s, 0, vt(torch.tensor([[3]])), vt(torch.randn(1, 1)))
    with pytest.raises(TypeError, match="float32 and float64"):
        ops.scatter_add(s, 0, vt(torch.tensor([[0]])), vt(torch.randn(1, 1, dtype=torch.float64)))
    with pytest.raises(ValueError, match=r"\[2, 2\].*\[1, 1\].*\[3, 4\]"):
        ops.scatter_add(s, 0, vt(torch.zeros(2, 2, dtype=torch.int64)), vt(torch.randn(1, 1)))


# ---- index_select / index_add ------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -2])
def test_index_select(dtype, dim):
    x = torch.randn(4, 5, 6, dtype=dtype)
    index = torch.tensor([3, 0, 3, 1, 2, 3])  # repeats accumulate in backward
    index = index[index < x.shape[dim]]
    check(lambda s, i: ops.index_select(s, dim, i), lambda s, i: torch.index_select(s, dim, i), [x, index], [0])


def test_index_select_noncontiguous_int32_and_0d():
    xt = torch.randn(6, 4, dtype=torch.float64)
    index = torch.tensor([5, 1, 1], dtype=torch.int32)
    check(lambda s, i: ops.index_select(s, 1, i), lambda s, i: torch.index_select(s, 1, i), [xt.t().contiguous(), index],
          [0], vt_inputs=[ops.transpose(vt(xt), 0, 1), vt(index)])
    x = torch.randn(3, 4, dtype=torch.float64)
    check(lambda s, i: ops.index_select(s, 0, i), lambda s, i: torch.index_select(s, 0, i), [x, torch.tensor(2)], [0])
    bf = torch.randn(3, 4).bfloat16()
    assert torch.equal(th(ops.index_select(vt(bf), 1, vt(torch.tensor([3, 0])))), bf[:, [3, 0]])


def test_index_select_errors():
    x = vt(torch.randn(3, 4))
    with pytest.raises(IndexError, match=r"index 3 is out of bounds for dimension 0 with size 3"):
        ops.index_select(x, 0, vt(torch.tensor([0, 3])))
    with pytest.raises(IndexError, match="index -1"):  # torch rejects negative indices here too
        ops.index_select(x, 0, vt(torch.tensor([-1])))
    with pytest.raises(ValueError, match=r"0-D or 1-D.*\[1, 1\]"):
        ops.index_select(x, 0, vt(torch.tensor([[0]])))
    with pytest.raises(IndexError, match="dimension out of range"):
        ops.index_select(x, 2, vt(torch.tensor([0])))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add(dim):
    x = torch.randn(5, 4, dtype=torch.float64)
    index = torch.tensor([0, 2, 0, 3])  # repeats accumulate
    sshape = [5, 4]
    sshape[dim] = 4
    src = torch.randn(sshape, dtype=torch.float64)
    check(lambda s, i, r: ops.index_add(s, dim, i, r), lambda s, i, r: torch.index_add(s, dim, i, r), [x, index, src],
          [0, 2])


def test_index_add_errors():
    x = vt(torch.randn(5, 4))
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for dimension 0 with size 5"):
        ops.index_add(x, 0, vt(torch.tensor([5])), vt(torch.randn(1, 4)))
    with pytest.raises(ValueError, match=r"\[2, 3\].*\[5, 4\]"):
        ops.index_add(x, 0, vt(torch.tensor([0, 1])), vt(torch.randn(2, 3)))
    with pytest.raises(TypeError, match="float32 and float64"):
        ops.index_add(x, 0, vt(torch.tensor([0])), vt(torch.randn(1, 4, dtype=torch.float64)))


# ---- masked_select -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_masked_select(dtype):
    x = torch.randn(3, 4, dtype=dtype)
    check(ops.masked_select, torch.masked_select, [x, torch.rand(3, 4) > 0.5], [0])
    check(ops.masked_select, torch.masked_select, [x, torch.rand(4) > 0.5], [0])  # mask broadcasts
    xt = torch.randn(4, 3, dtype=dtype)
    mask = torch.rand(3, 4) > 0.3
    check(ops.masked_select, torch.masked_select, [xt.t().contiguous(), mask], [0],
          vt_inputs=[ops.transpose(vt(xt), 0, 1), vt(mask)])


@needs_sum
def test_masked_select_broadcast_self():
    check(ops.masked_select, torch.masked_select, [torch.randn(1, 4, dtype=torch.float64), torch.rand(3, 4) > 0.5], [0])


def test_masked_select_errors():
    with pytest.raises(TypeError, match="bool"):
        ops.masked_select(vt(torch.randn(3)), vt(torch.ones(3)))
    with pytest.raises(ValueError, match=r"\[3\].*\[4\]"):
        ops.masked_select(vt(torch.randn(3)), vt(torch.ones(4, dtype=torch.bool)))


# ---- triu / tril -------------------------------------------------------------------------

@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5, 4)])
def test_triangle(upper, diagonal, shape):
    x = torch.randn(shape, dtype=torch.float64)
    vfn, tfn = (ops.triu, torch.triu) if upper else (ops.tril, torch.tril)
    check(lambda s: vfn(s, diagonal), lambda s: tfn(s, diagonal), [x], [0])


def test_triangle_noncontiguous_dtypes_and_errors():
    xt = torch.randn(5, 4, dtype=torch.float64)
    check(lambda s: ops.triu(s, 1), lambda s: torch.triu(s, 1), [xt.t().contiguous()], [0],
          vt_inputs=[ops.transpose(vt(xt), 0, 1)])
    for x in [torch.randint(-3, 3, (3, 3)), torch.rand(3, 4) > 0.5, torch.randn(3, 4).bfloat16()]:
        assert torch.equal(th(ops.tril(vt(x), 0)), torch.tril(x))
        assert torch.equal(th(ops.triu(vt(x), -1)), torch.triu(x, -1))
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*\[3\]"):
        ops.triu(vt(torch.randn(3)), 0)
