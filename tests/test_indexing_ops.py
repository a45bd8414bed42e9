"""embedding, cat, gather, index_select, masked_select, scatter_add, index_add, triu, tril against
torch on every device: forward, backward (random upstream gradients), non-contiguous and broadcast
inputs, every dtype and index dtype, empty tensors, errors (a bad index is an IndexError; on CUDA,
mixed devices a RuntimeError)."""
import pytest
import torch

import vibetensor as vt

from harness import CPU, CUDA_ONLY, DT, assert_close, check_op, ops, randn, to_torch, to_vt

FLOATS = [torch.float32, torch.float64]
ALL_FLOATS = FLOATS + [torch.float16, torch.bfloat16]
ALL = ALL_FLOATS + [torch.int64, torch.int32, torch.bool]
NUMERIC = ALL_FLOATS + [torch.int64, torch.int32]
INDEX_DTYPES = [torch.int64, torch.int32]


def check(device, vt_fn, th_fn, inputs, grad_inputs, vt_inputs=None, tol=None):
    """check_op with the gradients of the inputs at positions grad_inputs."""
    check_op(vt_fn, th_fn, inputs, device, tol, grad_of=[i in grad_inputs for i in range(len(inputs))],
             vt_inputs=vt_inputs)


def randidx(shape, high, dtype=torch.int64, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, high, shape, generator=g).to(dtype)


# ---- embedding ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("idx_dtype", [torch.int64, torch.int32])
def test_embedding(device, dtype, idx_dtype):
    w = torch.randn(10, 4, dtype=dtype)
    idx = torch.tensor([[1, 3, 3], [9, 0, 1]], dtype=idx_dtype)  # repeats: gradients accumulate
    check(device, ops.embedding, lambda w, i: torch.nn.functional.embedding(i, w), [w, idx], [0])
    check(device, ops.embedding, lambda w, i: torch.nn.functional.embedding(i, w), [w, torch.tensor(7)], [0])


def test_embedding_noncontiguous_weight(device):
    wt = torch.randn(4, 10, dtype=torch.float64)
    idx = torch.randint(0, 10, (5, 2))
    check(device, ops.embedding, lambda w, i: torch.nn.functional.embedding(i, w), [wt.t().contiguous(), idx], [0],
          vt_inputs=[ops.transpose(to_vt(wt, device), 0, 1), to_vt(idx, device)])


def test_embedding_errors(device):
    w = to_vt(torch.randn(10, 4), device)
    # CUDA raises a bad row index at the call only under checks.cuda_index=sync (Note [CUDA index checks])
    with vt.policy.override("checks.cuda_index=sync"):
        with pytest.raises(IndexError, match=r"index 10 .*10"):
            ops.embedding(w, to_vt(torch.tensor([0, 10]), device))
        with pytest.raises(IndexError, match="index -1"):
            ops.embedding(w, to_vt(torch.tensor([-1]), device))
    with pytest.raises(TypeError, match="int64 or int32"):
        ops.embedding(w, to_vt(torch.tensor([0.0]), device))
    with pytest.raises(ValueError, match=r"2-D.*\[10\]"):
        ops.embedding(to_vt(torch.randn(10), device), to_vt(torch.tensor([0]), device))


# ---- cat ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_cat(device, dim):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, s in enumerate(shapes):
        s[dim] = i + 1
    xs = [torch.randn(s, dtype=torch.float64) for s in shapes]
    check(device, lambda *t: ops.cat(list(t), dim), lambda *t: torch.cat(list(t), dim), xs, [0, 1, 2])


def test_cat_promotion_and_noncontiguous(device):
    a = torch.randn(3, 2, dtype=torch.float32)
    b = torch.randn(3, 4, dtype=torch.float64)
    bt = torch.randn(4, 3, dtype=torch.float64)  # given to vibetensor as a transposed view
    c = torch.randint(0, 5, (3, 1))
    check(device, lambda *t: ops.cat(list(t), 1), lambda *t: torch.cat(list(t), 1), [a, bt.t().contiguous(), c], [0, 1],
          vt_inputs=[to_vt(a, device), ops.transpose(to_vt(bt, device), 0, 1), to_vt(c, device)])
    assert ops.cat([to_vt(torch.ones(2, dtype=torch.int32), device), to_vt(torch.ones(2, dtype=torch.bool), device)], 0).dtype == DT.int32


def test_cat_legacy_empty_and_single(device):
    x = torch.randn(2, 3, dtype=torch.float64)
    check(device, lambda a, e: ops.cat([a, e], 0), lambda a, e: torch.cat([a, e], 0), [x, torch.randn(0, dtype=torch.float64)], [0])
    check(device, lambda a: ops.cat([a], 1), lambda a: torch.cat([a], 1), [x], [0])


def test_cat_errors(device):
    with pytest.raises(ValueError, match="non-empty"):
        ops.cat([], 0)
    with pytest.raises(ValueError, match=r"\[2, 3\].*\[2, 4\]"):
        ops.cat([to_vt(torch.randn(2, 3), device), to_vt(torch.randn(2, 4), device)], 0)
    with pytest.raises(ValueError, match=r"\[2, 3\].*\[2, 3, 1\]"):
        ops.cat([to_vt(torch.randn(2, 3), device), to_vt(torch.randn(2, 3, 1), device)], 0)
    with pytest.raises(ValueError, match="zero-dimensional"):
        ops.cat([to_vt(torch.tensor(1.0), device)], 0)
    with pytest.raises(IndexError, match="dimension out of range"):
        ops.cat([to_vt(torch.randn(2, 3), device)], 2)


# ---- gather / scatter_add ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_gather(device, dtype, dim):
    x = torch.randn(3, 4, 5, dtype=dtype)
    ishape = [2, 3, 4]
    ishape[dim] = 6  # longer than self along dim: indices repeat, gradients accumulate
    index = torch.randint(0, x.shape[dim], ishape)
    check(device, lambda s, i: ops.gather(s, dim, i), lambda s, i: torch.gather(s, dim, i), [x, index], [0])


def test_gather_noncontiguous_and_int32(device):
    xt = torch.randn(5, 4, dtype=torch.float64)
    index = torch.randint(0, 5, (4, 7), dtype=torch.int32)
    check(device, lambda s, i: ops.gather(s, 1, i), lambda s, i: torch.gather(s, 1, i.long()), [xt.t().contiguous(), index], [0],
          vt_inputs=[ops.transpose(to_vt(xt, device), 0, 1), to_vt(index, device)])


def test_gather_errors(device):
    x = to_vt(torch.randn(3, 4), device)
    with pytest.raises(IndexError, match=r"index 4 is out of bounds for dimension 1 with size 4"):
        ops.gather(x, 1, to_vt(torch.tensor([[0, 4]]), device))
    with pytest.raises(IndexError, match="index -1"):
        ops.gather(x, 1, to_vt(torch.tensor([[-1]]), device))
    with pytest.raises(ValueError, match=r"\[3\].*\[3, 4\]"):
        ops.gather(x, 0, to_vt(torch.tensor([0, 1, 2]), device))
    with pytest.raises(ValueError, match=r"\[4, 1\].*\[3, 4\]"):
        ops.gather(x, 1, to_vt(torch.zeros(4, 1, dtype=torch.int64), device))
    with pytest.raises(TypeError, match="int64 or int32"):
        ops.gather(x, 1, to_vt(torch.zeros(1, 1), device))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_add(device, dim):
    x = torch.randn(4, 5, dtype=torch.float64)
    src = torch.randn(4, 6, dtype=torch.float64)
    ishape = [3, 4]  # smaller than src: src elements outside the index get zero gradient
    index = torch.randint(0, x.shape[dim], ishape)
    # torch's own backward rejects a src larger than the index, so the reference reads the window.
    check(device, lambda s, i, r: ops.scatter_add(s, dim, i, r), lambda s, i, r: torch.scatter_add(s, dim, i, r[:3, :4]),
          [x, index, src], [0, 2])
    check(device, lambda s, i, r: ops.scatter_add(s, dim, i, r), lambda s, i, r: torch.scatter_add(s, dim, i, r),
          [x, index, src[:3, :4]], [0, 2])


def test_scatter_add_half_and_errors(device):
    x, src = torch.randn(3, 4).half(), torch.randn(3, 4).half()
    index = torch.randint(0, 3, (3, 4))
    out = ops.scatter_add(to_vt(x, device), 0, to_vt(index, device), to_vt(src, device))
    torch.testing.assert_close(to_torch(out).float(), torch.scatter_add(x.float(), 0, index, src.float()), rtol=1e-2, atol=1e-2)
    s = to_vt(torch.randn(3, 4), device)
    with pytest.raises(IndexError, match=r"index 3 is out of bounds for dimension 0 with size 3"):
        ops.scatter_add(s, 0, to_vt(torch.tensor([[3]]), device), to_vt(torch.randn(1, 1), device))
    with pytest.raises(TypeError, match="float32 and float64"):
        ops.scatter_add(s, 0, to_vt(torch.tensor([[0]]), device), to_vt(torch.randn(1, 1, dtype=torch.float64), device))
    with pytest.raises(ValueError, match=r"\[2, 2\].*\[1, 1\].*\[3, 4\]"):
        ops.scatter_add(s, 0, to_vt(torch.zeros(2, 2, dtype=torch.int64), device), to_vt(torch.randn(1, 1), device))


# ---- index_select / index_add ------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -2])
def test_index_select(device, dtype, dim):
    x = torch.randn(4, 5, 6, dtype=dtype)
    index = torch.tensor([3, 0, 3, 1, 2, 3])  # repeats accumulate in backward
    index = index[index < x.shape[dim]]
    check(device, lambda s, i: ops.index_select(s, dim, i), lambda s, i: torch.index_select(s, dim, i), [x, index], [0])


def test_index_select_noncontiguous_int32_and_0d(device):
    xt = torch.randn(6, 4, dtype=torch.float64)
    index = torch.tensor([5, 1, 1], dtype=torch.int32)
    check(device, lambda s, i: ops.index_select(s, 1, i), lambda s, i: torch.index_select(s, 1, i), [xt.t().contiguous(), index],
          [0], vt_inputs=[ops.transpose(to_vt(xt, device), 0, 1), to_vt(index, device)])
    x = torch.randn(3, 4, dtype=torch.float64)
    check(device, lambda s, i: ops.index_select(s, 0, i), lambda s, i: torch.index_select(s, 0, i), [x, torch.tensor(2)], [0])
    bf = torch.randn(3, 4).bfloat16()
    assert torch.equal(to_torch(ops.index_select(to_vt(bf, device), 1, to_vt(torch.tensor([3, 0]), device))), bf[:, [3, 0]])


def test_index_select_errors(device):
    x = to_vt(torch.randn(3, 4), device)
    with pytest.raises(IndexError, match=r"index 3 is out of bounds for dimension 0 with size 3"):
        ops.index_select(x, 0, to_vt(torch.tensor([0, 3]), device))
    with pytest.raises(IndexError, match="index -1"):  # torch rejects negative indices here too
        ops.index_select(x, 0, to_vt(torch.tensor([-1]), device))
    with pytest.raises(ValueError, match=r"0-D or 1-D.*\[1, 1\]"):
        ops.index_select(x, 0, to_vt(torch.tensor([[0]]), device))
    with pytest.raises(IndexError, match="dimension out of range"):
        ops.index_select(x, 2, to_vt(torch.tensor([0]), device))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add(device, dim):
    x = torch.randn(5, 4, dtype=torch.float64)
    index = torch.tensor([0, 2, 0, 3])  # repeats accumulate
    sshape = [5, 4]
    sshape[dim] = 4
    src = torch.randn(sshape, dtype=torch.float64)
    check(device, lambda s, i, r: ops.index_add(s, dim, i, r), lambda s, i, r: torch.index_add(s, dim, i, r), [x, index, src],
          [0, 2])


def test_index_add_errors(device):
    x = to_vt(torch.randn(5, 4), device)
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for dimension 0 with size 5"):
        ops.index_add(x, 0, to_vt(torch.tensor([5]), device), to_vt(torch.randn(1, 4), device))
    with pytest.raises(ValueError, match=r"\[2, 3\].*\[5, 4\]"):
        ops.index_add(x, 0, to_vt(torch.tensor([0, 1]), device), to_vt(torch.randn(2, 3), device))
    with pytest.raises(TypeError, match="float32 and float64"):
        ops.index_add(x, 0, to_vt(torch.tensor([0]), device), to_vt(torch.randn(1, 4, dtype=torch.float64), device))


# ---- masked_select -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_masked_select(device, dtype):
    x = torch.randn(3, 4, dtype=dtype)
    check(device, ops.masked_select, torch.masked_select, [x, torch.rand(3, 4) > 0.5], [0])
    check(device, ops.masked_select, torch.masked_select, [x, torch.rand(4) > 0.5], [0])  # mask broadcasts
    xt = torch.randn(4, 3, dtype=dtype)
    mask = torch.rand(3, 4) > 0.3
    check(device, ops.masked_select, torch.masked_select, [xt.t().contiguous(), mask], [0],
          vt_inputs=[ops.transpose(to_vt(xt, device), 0, 1), to_vt(mask, device)])


def test_masked_select_broadcast_self(device):
    check(device, ops.masked_select, torch.masked_select, [torch.randn(1, 4, dtype=torch.float64), torch.rand(3, 4) > 0.5], [0])


def test_masked_select_errors(device):
    with pytest.raises(TypeError, match="bool"):
        ops.masked_select(to_vt(torch.randn(3), device), to_vt(torch.ones(3), device))
    with pytest.raises(ValueError, match=r"\[3\].*\[4\]"):
        ops.masked_select(to_vt(torch.randn(3), device), to_vt(torch.ones(4, dtype=torch.bool), device))


# ---- triu / tril -------------------------------------------------------------------------

@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5, 4)])
def test_triangle(device, upper, diagonal, shape):
    x = torch.randn(shape, dtype=torch.float64)
    vfn, tfn = (ops.triu, torch.triu) if upper else (ops.tril, torch.tril)
    check(device, lambda s: vfn(s, diagonal), lambda s: tfn(s, diagonal), [x], [0])


def test_triangle_noncontiguous_dtypes_and_errors(device):
    xt = torch.randn(5, 4, dtype=torch.float64)
    check(device, lambda s: ops.triu(s, 1), lambda s: torch.triu(s, 1), [xt.t().contiguous()], [0],
          vt_inputs=[ops.transpose(to_vt(xt, device), 0, 1)])
    for x in [torch.randint(-3, 3, (3, 3)), torch.rand(3, 4) > 0.5, torch.randn(3, 4).bfloat16()]:
        assert torch.equal(to_torch(ops.tril(to_vt(x, device), 0)), torch.tril(x))
        assert torch.equal(to_torch(ops.triu(to_vt(x, device), -1)), torch.triu(x, -1))
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*\[3\]"):
        ops.triu(to_vt(torch.randn(3), device), 0)


# ==== every dtype, index dtype and kernel path ====================================================

# ---- gather ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_gather_dtypes(device, dtype, idx_dtype):
    x = randn((4, 9, 5), dtype)
    for dim in (0, 1, -1):
        size = x.shape[dim]
        ishape = [3, 6, 4]
        idx = randidx(ishape, size, idx_dtype, seed=dim + 3)
        assert_close(ops.gather(to_vt(x, device), dim, to_vt(idx, device)), torch.gather(x, dim, idx.long()))


def test_gather_noncontiguous_and_backward(device):
    x = randn((7, 6), torch.float32, 2)
    idx = randidx((5, 6), 7, seed=4)  # repeats: the gradient accumulates
    vx = ops.transpose(to_vt(x.t().contiguous(), device), 0, 1)  # a strided view with x's values
    assert_close(ops.gather(vx, 0, to_vt(idx, device)), torch.gather(x, 0, idx))
    vi = ops.transpose(to_vt(idx.t().contiguous(), device), 0, 1)
    assert_close(ops.gather(to_vt(x, device), 0, vi), torch.gather(x, 0, idx))
    check(device, lambda a: ops.gather(a, 1, to_vt(randidx((7, 3), 6, seed=5), device)),
                   lambda a: torch.gather(a, 1, randidx((7, 3), 6, seed=5)), [x], [0])


def test_gather_empty_and_zero_dim(device):
    x = randn((3, 4), torch.float32)
    out = ops.gather(to_vt(x, device), 1, to_vt(torch.zeros((3, 0), dtype=torch.int64), device))
    assert tuple(out.shape) == (3, 0)
    s = randn((), torch.float32)
    assert_close(ops.gather(to_vt(s, device), 0, to_vt(torch.tensor(0), device)), torch.gather(s, 0, torch.tensor(0)))


# ---- index_select --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_index_select_dtypes(device, dtype, idx_dtype):
    x = randn((5, 8, 3), dtype, 6)
    for dim in (0, 1, 2, -2):
        idx = randidx((11,), x.shape[dim], idx_dtype, seed=7)
        assert_close(ops.index_select(to_vt(x, device), dim, to_vt(idx, device)), torch.index_select(x, dim, idx))


def test_index_select_strided_zero_dim_and_backward(device):
    x = randn((6, 10), torch.float32, 8)
    vx = ops.slice(to_vt(x, device), 1, 1, None, 2)  # stride 2 along the last dim
    idx = torch.tensor([4, 0, 4, 2])
    assert_close(ops.index_select(vx, 0, to_vt(idx, device)), torch.index_select(x[:, 1::2], 0, idx))
    assert_close(ops.index_select(to_vt(x, device), 1, to_vt(torch.tensor(3), device)),
                 torch.index_select(x, 1, torch.tensor(3)))
    s = randn((), torch.float32)
    assert_close(ops.index_select(to_vt(s, device), 0, to_vt(torch.tensor([0]), device)),
                 torch.index_select(s, 0, torch.tensor([0])))
    check(device, lambda a: ops.index_select(a, 0, to_vt(idx, device)), lambda a: torch.index_select(a, 0, idx), [x], [0])
    empty = ops.index_select(to_vt(x, device), 0, to_vt(torch.zeros(0, dtype=torch.int64), device))
    assert tuple(empty.shape) == (0, 10)


# ---- masked_select ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
def test_masked_select_dtypes_and_broadcast(device, dtype):
    x = randn((4, 37), dtype, 9)
    m = randn((4, 37), torch.bool, 10)
    assert_close(ops.masked_select(to_vt(x, device), to_vt(m, device)), torch.masked_select(x, m))
    mb = randn((37,), torch.bool, 11)  # the mask broadcasts over rows
    assert_close(ops.masked_select(to_vt(x, device), to_vt(mb, device)), torch.masked_select(x, mb))
    xb = randn((1, 37), dtype, 12)  # self broadcasts over the mask's rows
    assert_close(ops.masked_select(to_vt(xb, device), to_vt(m, device)), torch.masked_select(xb, m))


def test_masked_select_noncontiguous_none_all_and_large(device):
    x = randn((9, 5), torch.float32, 13)
    m = randn((5, 9), torch.bool, 14)
    vx, vm = ops.transpose(to_vt(x, device), 0, 1), ops.transpose(to_vt(m.t().contiguous(), device), 0, 1)
    assert_close(ops.masked_select(vx, vm), torch.masked_select(x.t(), m.t().contiguous().t()))
    none = torch.zeros((9, 5), dtype=torch.bool)
    assert tuple(ops.masked_select(to_vt(x, device), to_vt(none, device)).shape) == (0,)
    assert_close(ops.masked_select(to_vt(x, device), to_vt(~none, device)), torch.masked_select(x, ~none))
    big = randn((3, 100_003), torch.float16, 15)  # several scan tiles
    bm = randn((3, 100_003), torch.bool, 16)
    assert_close(ops.masked_select(to_vt(big, device), to_vt(bm, device)), torch.masked_select(big, bm))
    empty = ops.masked_select(to_vt(torch.zeros((0, 3)), device), to_vt(torch.zeros((0, 3), dtype=torch.bool), device))
    assert tuple(empty.shape) == (0,)


def test_masked_select_backward(device):
    x = randn((3, 8), torch.float32, 17)
    m = randn((8,), torch.bool, 18)
    check(device, lambda a: ops.masked_select(a, to_vt(m, device)), lambda a: torch.masked_select(a, m), [x], [0])


# ---- scatter_add / index_add ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_scatter_add_dtypes(device, dtype, idx_dtype):
    x, src = randn((5, 7), dtype, 19), randn((6, 7), dtype, 20)
    for dim in (0, -1):
        idx = randidx((4, 5), x.shape[dim], idx_dtype, seed=21)  # smaller than src; repeats
        tol = {"rtol": 1e-2, "atol": 1e-2} if dtype in (torch.float16, torch.bfloat16) else None
        assert_close(ops.scatter_add(to_vt(x, device), dim, to_vt(idx, device), to_vt(src, device)),
                     torch.scatter_add(x, dim, idx.long(), src), **(tol or {}))


def test_scatter_add_noncontiguous_and_backward(device):
    x, src = randn((6, 4), torch.float64, 22), randn((4, 6), torch.float64, 23)
    idx = randidx((3, 4), 6, seed=24)
    vsrc = ops.transpose(to_vt(src, device), 0, 1)  # strided (6, 4)
    assert_close(ops.scatter_add(to_vt(x, device), 0, to_vt(idx, device), vsrc), torch.scatter_add(x, 0, idx, src.t()))
    vx = ops.transpose(to_vt(x.t().contiguous(), device), 0, 1)  # a strided self
    assert_close(ops.scatter_add(vx, 0, to_vt(idx, device), to_vt(src.t().contiguous(), device)),
                 torch.scatter_add(x, 0, idx, src.t()))
    s2 = randn((3, 4), torch.float64, 25)  # torch's backward needs src shaped like index
    check(device, lambda a, b: ops.scatter_add(a, 0, to_vt(idx, device), b),
                   lambda a, b: torch.scatter_add(a, 0, idx, b), [x, s2], [0, 1])


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_index_add_dtypes(device, dtype, idx_dtype):
    x = randn((6, 5, 3), dtype, 26)
    for dim in (0, 1, -1):
        idx = randidx((8,), x.shape[dim], idx_dtype, seed=27)
        shape = list(x.shape)
        shape[dim] = 8
        src = randn(tuple(shape), dtype, 28)
        tol = {"rtol": 1e-2, "atol": 2e-2} if dtype in (torch.float16, torch.bfloat16) else None
        assert_close(ops.index_add(to_vt(x, device), dim, to_vt(idx, device), to_vt(src, device)),
                     torch.index_add(x, dim, idx, src), **(tol or {}))


def test_index_add_integer_sums_are_exact_and_backward(device):
    x = torch.zeros(4, dtype=torch.int64)
    idx = torch.tensor([1] * 1000 + [3] * 24)
    src = torch.arange(1024, dtype=torch.int64) * (1 << 33)  # beyond 32 bits
    assert_close(ops.index_add(to_vt(x, device), 0, to_vt(idx, device), to_vt(src, device)), torch.index_add(x, 0, idx, src))
    xf, sf = randn((5, 3), torch.float32, 29), randn((4, 3), torch.float32, 30)
    i4 = torch.tensor([4, 0, 4, 1])
    check(device, lambda a, b: ops.index_add(a, 0, to_vt(i4, device), b),
                   lambda a, b: torch.index_add(a, 0, i4, b), [xf, sf], [0, 1])


def test_embedding_style_backward_through_index_add(device):
    # gather / index_select backward accumulate repeated indices with atomics: compare the sums
    x = randn((3, 50), torch.float32, 31)
    idx = randidx((3, 4000), 50, seed=32)
    check(device, lambda a: ops.gather(a, 1, to_vt(idx, device)), lambda a: torch.gather(a, 1, idx), [x], [0],
                   tol={"rtol": 1e-4, "atol": 1e-4})


# ---- errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("idx_dtype", INDEX_DTYPES)
def test_bad_index_is_index_error_and_device_stays_usable(device, idx_dtype):
    x = to_vt(randn((4, 5), torch.float32), device)
    bad = to_vt(torch.tensor([[0, 1, 7, 2, -1]] * 4, dtype=idx_dtype), device)
    with pytest.raises(IndexError, match=r"gather: index 7 is out of bounds for dimension 0 with size 4"):
        ops.gather(x, 0, bad)
    with pytest.raises(IndexError, match=r"index_select: index -1 is out of bounds"):
        ops.index_select(x, 1, to_vt(torch.tensor([0, -1], dtype=idx_dtype), device))
    with pytest.raises(IndexError, match=r"index_select: index 5 is out of bounds"):  # empty loop, index still checked
        ops.index_select(to_vt(torch.zeros(0, 5), device), 1, to_vt(torch.tensor([5], dtype=idx_dtype), device))
    with pytest.raises(IndexError, match=r"scatter_add: index 7 is out of bounds"):
        ops.scatter_add(x, 0, bad, to_vt(randn((4, 5), torch.float32), device))
    with pytest.raises(IndexError, match=r"index_add: index 9 is out of bounds for dimension 1 with size 5"):
        ops.index_add(x, 1, to_vt(torch.tensor([9], dtype=idx_dtype), device), to_vt(randn((4, 1), torch.float32), device))
    # the context is intact: a later op works
    assert_close(ops.gather(x, 0, to_vt(torch.zeros((1, 5), dtype=idx_dtype), device)),
                 torch.gather(to_torch(x), 0, torch.zeros((1, 5), dtype=torch.int64)))


def test_argument_errors(device):
    x = to_vt(randn((4, 5), torch.float32), device)
    with pytest.raises(TypeError, match="int64 or int32"):
        ops.gather(x, 0, to_vt(torch.zeros((4, 5)), device))
    with pytest.raises(TypeError, match="bool"):
        ops.masked_select(x, to_vt(torch.zeros((4, 5), dtype=torch.int32), device))
    with pytest.raises(TypeError, match="same dtype"):
        ops.index_add(x, 0, to_vt(torch.tensor([0]), device), to_vt(torch.zeros((1, 5), dtype=torch.float64), device))
    with pytest.raises(ValueError, match="0-D or 1-D"):
        ops.index_select(x, 0, to_vt(torch.zeros((2, 2), dtype=torch.int64), device))
    with pytest.raises(IndexError):
        ops.gather(x, 2, to_vt(torch.zeros((4, 5), dtype=torch.int64), device))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        ops.triu(to_vt(torch.ones(3), device), 0)


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_mixed_devices_are_clear_errors(device):
    x = to_vt(randn((4, 5), torch.float32), device)
    cpu_idx = ops.to_device(to_vt(torch.zeros((4, 5), dtype=torch.int64), device), CPU)
    for call in (lambda: ops.gather(x, 0, cpu_idx),
                 lambda: ops.index_select(x, 0, ops.to_device(to_vt(torch.tensor(1), device), CPU)),  # a 0-d CPU index
                 lambda: ops.masked_select(x, ops.to_device(to_vt(torch.ones((4, 5), dtype=torch.bool), device), CPU)),
                 lambda: ops.cat([x, ops.to_device(x, CPU)], 0)):
        with pytest.raises(RuntimeError, match="device"):
            call()


# ---- cat ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
def test_cat_dtypes_dims(device, dtype):
    parts = [randn((3, k, 4), dtype, k) for k in (1, 5, 2)]
    for dim in (0, 1, 2, -1):
        ps = [p if dim in (1, -2) else p.narrow(1, 0, 1) for p in parts]
        if dim in (0,):
            ps = [randn((k, 2, 4), dtype, k) for k in (1, 5, 2)]
        if dim in (2, -1):
            ps = [randn((3, 2, k), dtype, k) for k in (1, 5, 2)]
        assert_close(ops.cat([to_vt(p, device) for p in ps], dim), torch.cat(ps, dim))


def test_cat_many_inputs_odd_sizes_and_alignment(device):
    parts = [randn((2, k), torch.float16, k) for k in range(1, 140)]  # more than one batch of 64, odd widths
    assert_close(ops.cat([to_vt(p, device) for p in parts], 1), torch.cat(parts, 1))
    big = [randn((1000, 8), torch.float32, 1), randn((1000, 16), torch.float32, 2)]  # 16-byte units
    assert_close(ops.cat([to_vt(p, device) for p in big], 1), torch.cat(big, 1))


def test_cat_noncontiguous_mixed_dtypes_and_skipped_empty(device):
    a = randn((4, 3), torch.float32, 40)
    b = randn((3, 4), torch.float64, 41)
    c = randn((4, 2), torch.int32, 42)
    vb = ops.transpose(to_vt(b, device), 0, 1)
    got = ops.cat([to_vt(a, device), vb, to_vt(c, device), to_vt(torch.zeros(0), device)], 1)
    assert_close(got, torch.cat([a, b.t(), c, torch.zeros(0)], 1))
    only_empty = ops.cat([to_vt(torch.zeros(0), device), to_vt(torch.zeros(0), device)], 0)
    assert tuple(only_empty.shape) == (0,)
    zero_rows = ops.cat([to_vt(torch.zeros((0, 3)), device), to_vt(torch.zeros((0, 2)), device)], 1)
    assert tuple(zero_rows.shape) == (0, 5)
    with pytest.raises(ValueError, match="matching sizes"):
        ops.cat([to_vt(a, device), to_vt(b, device)], 1)


def test_cat_backward(device):
    a, b = randn((2, 3), torch.float32, 43), randn((2, 5), torch.float32, 44)
    check(device, lambda x, y: ops.cat([x, y], 1), lambda x, y: torch.cat([x, y], 1), [a, b], [0, 1])


# ---- triu / tril ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("diagonal", [-2, 0, 1, 7])
def test_triu_tril(device, dtype, diagonal):
    x = randn((2, 5, 6), dtype, 45)
    assert_close(ops.triu(to_vt(x, device), diagonal), torch.triu(x, diagonal))
    assert_close(ops.tril(to_vt(x, device), diagonal), torch.tril(x, diagonal))
    vx = ops.transpose(to_vt(x, device), 1, 2)  # non-contiguous
    assert_close(ops.triu(vx, diagonal), torch.triu(x.transpose(1, 2), diagonal))
    assert_close(ops.tril(vx, diagonal), torch.tril(x.transpose(1, 2), diagonal))


def test_triu_tril_empty_and_backward(device):
    assert tuple(ops.triu(to_vt(torch.zeros((0, 4)), device), 0).shape) == (0, 4)
    x = randn((4, 4), torch.float32, 46)
    check(device, lambda a: ops.triu(a, 1), lambda a: torch.triu(a, 1), [x], [0])
    check(device, lambda a: ops.tril(a, -1), lambda a: torch.tril(a, -1), [x], [0])


def test_causal_attention(device):
    # scaled_dot_product_attention is Composite: every op it calls (matmul, triu, masked_fill,
    # softmax) runs on the device.
    q = to_vt(randn((1, 2, 4, 8), torch.float32, 47), device)
    qt = randn((1, 2, 4, 8), torch.float32, 47)
    got = ops.scaled_dot_product_attention(q, q, q, None, 0.0, True, None)
    assert_close(got, torch.nn.functional.scaled_dot_product_attention(qt, qt, qt, is_causal=True),
                 rtol=1e-4, atol=1e-5)
