"""Reductions (sum, mean, var, amax, amin, max_dim, min_dim, argmax, argmin) against torch:
forward and backward, every layout path of the CPU engine, dtypes and error paths."""
import math

import pytest
import torch

from vibetensor import _C
from _torch_ref import assert_close, backward, leaf, ops, to_torch, to_vt, weighted_sum

FLOATS = [torch.float32, torch.float64]
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-10)}
DIMS = [None, (0,), (-1,), (1,), (0, 2), (0, 1), (1, 2), (0, 1, 2)]


def torch_reduce(name, x, dims, keepdim, **kw):
    if dims is None:
        out = getattr(torch, name)(x, **kw)
        return out.reshape([1] * x.dim()) if keepdim else out
    return getattr(torch, name)(x, dim=dims, keepdim=keepdim, **kw)


def check_fwd_bwd(name, vt_fn, torch_fn, x, tol, seed=1):
    """Forward values and the gradient of sum(out * w) for a random w."""
    xt = x.clone().requires_grad_(True)
    ref = torch_fn(xt)
    w = leaf(ref.shape, x.dtype, seed=seed)
    (ref * w).sum().backward()
    xv = to_vt(x, requires_grad=True)
    out = vt_fn(xv)
    assert_close(out, ref.detach(), **tol)
    backward(weighted_sum(out, w))
    assert_close(xv.grad, xt.grad, **tol)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean(name, dtype, dims, keepdim):
    x = leaf((4, 5, 6), dtype)
    dl = None if dims is None else list(dims)
    check_fwd_bwd(name, lambda v: getattr(ops, name)(v, dl, keepdim),
                  lambda t: torch_reduce(name, t, dims, keepdim), x, TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_with_ties(name, dtype, dims, keepdim):
    # Small integers make ties common: the gradient is shared evenly among them.
    x = torch.randint(-3, 4, (4, 5, 6), generator=torch.Generator().manual_seed(3)).to(dtype)
    dl = [] if dims is None else list(dims)
    check_fwd_bwd(name, lambda v: getattr(ops, name)(v, dl, keepdim),
                  lambda t: getattr(torch, name)(t, dim=dims if dims else (), keepdim=keepdim), x, TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim(name, dtype, dim, keepdim):
    x = torch.randint(-3, 4, (4, 5, 6), generator=torch.Generator().manual_seed(4)).to(dtype)
    ref_v, ref_i = getattr(torch, name)(x, dim, keepdim)
    v, i = getattr(ops, name + "_dim")(to_vt(x), dim, keepdim)
    assert_close(v, ref_v)
    assert_close(i, ref_i)  # ties: the first index, as torch
    check_fwd_bwd(name, lambda t: getattr(ops, name + "_dim")(t, dim, keepdim)[0],
                  lambda t: getattr(torch, name)(t, dim, keepdim)[0], leaf((4, 5, 6), dtype), TOL[dtype])


def test_max_dim_indices_do_not_require_grad():
    xv = to_vt(leaf((3, 4)), requires_grad=True)
    v, i = ops.max_dim(xv, 1)
    assert v.requires_grad and not i.requires_grad
    assert i.dtype == _C.dtype.int64


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int32])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, dtype, dim, keepdim):
    x = torch.randint(-5, 6, (7, 9), generator=torch.Generator().manual_seed(5)).to(dtype)
    assert_close(getattr(ops, name)(to_vt(x), dim, keepdim), getattr(torch, name)(x, dim, keepdim))
    xt = x.t()  # non-contiguous
    assert_close(getattr(ops, name)(ops.transpose(to_vt(x), 0, 1), dim, keepdim), getattr(torch, name)(xt, dim, keepdim))


def test_nan_propagation():
    x = torch.tensor([[1.0, float("nan"), 3.0, float("nan")], [4.0, 2.0, 0.0, 1.0]])
    xv = to_vt(x)
    assert_close(ops.amax(xv, [1]), torch.amax(x, 1), equal_nan=True)
    assert_close(ops.amin(xv, [1]), torch.amin(x, 1), equal_nan=True)
    for name in ["max", "min"]:
        v, i = getattr(ops, name + "_dim")(xv, 1)
        rv, ri = getattr(torch, name)(x, 1)
        assert_close(v, rv, equal_nan=True)
        assert_close(i, ri)
    assert_close(ops.argmax(xv, 1), torch.argmax(x, 1))
    assert_close(ops.argmin(xv, None), torch.argmin(x))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dims", [None, (0,), (1,), (0, 2), (-1,)])
@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var(dtype, dims, correction, keepdim):
    x = leaf((4, 5, 6), dtype, scale=3.0) + 10  # an offset checks the two-pass formula
    dl = None if dims is None else list(dims)

    def ref(t):
        if dims is None:
            out = torch.var(t, correction=correction)
            return out.reshape(1, 1, 1) if keepdim else out
        return torch.var(t, dim=dims, correction=correction, keepdim=keepdim)
    check_fwd_bwd("var", lambda v: ops.var(v, dl, correction, keepdim), ref, x, TOL[dtype])


def test_var_divisor_not_positive():
    assert math.isnan(to_torch(ops.var(to_vt(torch.tensor([1.0])))).item())
    assert math.isinf(to_torch(ops.var(to_vt(torch.tensor([1.0, 2.0])), None, 2)).item())


# ---- layouts: every path of the CPU engine (see Note [Reduction layouts]) --------------------
# Sizes are large enough (> 32768 elements) that the threaded paths run too.
LAYOUTS = [
    ((300, 257), (1,)),        # inner: trailing dim, many rows
    ((3, 40000), (1,)),        # inner: few long rows, split across threads
    ((512, 300), (0,)),        # outer: the bias-gradient sum over the batch
    ((40000, 3), (0,)),        # outer: few columns, rows split across threads
    ((20, 300, 17), (1,)),     # middle dim
    ((20, 300, 17), (0, 2)),   # interleaved: copied
    ((8, 9, 10, 11), (1, 2)),  # a block of middle dims
    ((64, 33, 30), (0, 1)),    # leading block
]


@pytest.mark.parametrize("shape,dims", LAYOUTS)
def test_layouts_contiguous(shape, dims):
    x = leaf(shape, torch.float64)
    for name in ["sum", "amax"]:
        assert_close(getattr(ops, name)(to_vt(x), list(dims)), getattr(torch, name)(x, dims), **TOL[torch.float64])
    if len(dims) == 1:
        v, i = ops.max_dim(to_vt(x), dims[0])
        rv, ri = torch.max(x, dims[0])
        assert_close(v, rv)
        assert_close(i, ri)
        assert_close(ops.argmin(to_vt(x), dims[0]), torch.argmin(x, dims[0]))


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1)])
def test_layouts_transposed_and_sliced(dims):
    base = leaf((300, 200), torch.float64)
    # A transposed view is read in place (its permutation is contiguous).
    check_fwd_bwd("sum", lambda v: ops.sum(ops.transpose(v, 0, 1), list(dims)),
                  lambda t: torch.sum(t.t(), dims), base, TOL[torch.float64])
    # A strided slice is copied first.
    check_fwd_bwd("amax", lambda v: ops.amax(ops.slice(v, 1, 1, None, 3), list(dims)),
                  lambda t: torch.amax(t[:, 1::3], dims), base, TOL[torch.float64])
    check_fwd_bwd("max", lambda v: ops.max_dim(ops.transpose(v, 0, 1), dims[0])[0],
                  lambda t: torch.max(t.t(), dims[0])[0], base, TOL[torch.float64])


def test_float32_sum_accuracy():
    # Pairwise accumulation keeps a long float32 sum close to the float64 result.
    x = leaf((2_000_000,), torch.float32) + 1.0
    exact = x.double().sum().item()
    got = to_torch(ops.sum(to_vt(x))).item()
    assert abs(got - exact) <= 1e-5 * abs(exact)
    cols = leaf((100_000, 4), torch.float32) + 1.0
    torch.testing.assert_close(to_torch(ops.sum(to_vt(cols), [0])).double(), cols.double().sum(0), rtol=1e-5, atol=0)


# ---- dtypes --------------------------------------------------------------------------------

def test_integer_and_bool_sum_give_int64():
    xi = torch.randint(-100, 100, (5, 6), dtype=torch.int32)
    assert_close(ops.sum(to_vt(xi), [1]), torch.sum(xi, 1))
    xb = torch.rand(5, 6) > 0.5
    assert_close(ops.sum(to_vt(xb)), torch.sum(xb))
    assert_close(ops.sum(to_vt(xi), [0], False, _C.dtype.int32), torch.sum(xi, 0, dtype=torch.int32))


def test_dtype_argument():
    x = leaf((4, 5), torch.float32)
    assert_close(ops.sum(to_vt(x), [1], False, _C.dtype.float64), torch.sum(x, 1, dtype=torch.float64))
    xi = torch.randint(0, 10, (4, 5))
    assert_close(ops.mean(to_vt(xi), None, False, _C.dtype.float64), torch.mean(xi, dtype=torch.float64))
    # sum in float64 of a float32 input: the gradient comes back as float32.
    xv = to_vt(x, requires_grad=True)
    backward(ops.sum(ops.sum(xv, [1], False, _C.dtype.float64)))
    assert_close(xv.grad, torch.ones(4, 5))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_forward(dtype):
    x = leaf((16, 300), dtype)
    ref = x.float()
    tol = dict(rtol=2e-2, atol=2e-2)
    assert to_torch(ops.sum(to_vt(x), [1])).dtype == dtype
    torch.testing.assert_close(to_torch(ops.sum(to_vt(x), [1])).float(), ref.sum(1), rtol=2e-2, atol=0.2)
    torch.testing.assert_close(to_torch(ops.mean(to_vt(x), [0])).float(), ref.mean(0), **tol)
    torch.testing.assert_close(to_torch(ops.var(to_vt(x), [1])).float(), ref.var(1), **tol)
    torch.testing.assert_close(to_torch(ops.amax(to_vt(x), [1])), torch.amax(x, 1))
    assert_close(ops.argmax(to_vt(x), 1), torch.argmax(x, 1))


def test_zero_dim_and_empty():
    s = torch.tensor(2.5)
    assert_close(ops.sum(to_vt(s)), torch.sum(s))
    assert_close(ops.sum(to_vt(s), [0], True), torch.sum(s, 0, keepdim=True))
    v, i = ops.max_dim(to_vt(s), 0)
    assert_close(v, s)
    assert_close(i, torch.tensor(0))
    e = torch.empty(0, 3)
    assert_close(ops.sum(to_vt(e), [0]), torch.zeros(3))
    assert_close(ops.mean(to_vt(e), [0]), torch.mean(e, 0), equal_nan=True)
    assert_close(ops.sum(to_vt(e), [1]), torch.zeros(0))


# ---- errors ----------------------------------------------------------------------------------

def test_errors():
    xv = to_vt(leaf((3, 4)))
    with pytest.raises(IndexError, match="out of range"):
        ops.sum(xv, [2])
    with pytest.raises(IndexError, match="out of range"):
        ops.amax(xv, [-3])
    with pytest.raises(IndexError):
        ops.max_dim(xv, 5)
    with pytest.raises(IndexError):
        ops.argmax(xv, 2)
    with pytest.raises(RuntimeError, match="multiple times"):
        ops.sum(xv, [1, -1])
    with pytest.raises(TypeError, match="floating"):
        ops.mean(to_vt(torch.ones(3, dtype=torch.int64)))
    with pytest.raises(TypeError):
        ops.var(to_vt(torch.ones(3, dtype=torch.int64)))
    with pytest.raises(TypeError):
        ops.mean(xv, None, False, _C.dtype.int64)
    with pytest.raises(TypeError):
        ops.argmax(to_vt(torch.ones(3, dtype=torch.bool)))
    with pytest.raises(TypeError):
        ops.sum(xv, "a")
    with pytest.raises(IndexError, match="non-zero size"):
        ops.amax(to_vt(torch.empty(0, 3)), [0])
    with pytest.raises(IndexError, match="non-zero size"):
        ops.max_dim(to_vt(torch.empty(0, 3)), 0)
    with pytest.raises(RuntimeError, match="specify the reduction dim"):
        ops.amin(to_vt(torch.empty(0, 3)))
    with pytest.raises(RuntimeError, match="specify the reduction dim"):
        ops.argmax(to_vt(torch.empty(0, 3)))
