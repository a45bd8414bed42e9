"""Reductions (sum, mean, var, amax, amin, max_dim, min_dim, argmax, argmin, sum_to_size) against
torch on every device: forward and backward, every layout path of the CPU engine (Note [Reduction
layouts]) and of the CUDA kernels (Note [CUDA reductions]), dtypes, NaN and ties, empty inputs and
error paths."""
import math
import threading

import pytest
import torch

from harness import CUDA_ONLY, DT, assert_close, backward, check_op, ops, rand, randn, to_torch, to_vt

FLOATS = [torch.float32, torch.float64]


TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-10)}


DIMS = [None, (0,), (-1,), (1,), (0, 2), (0, 1), (1, 2), (0, 1, 2)]


def torch_reduce(name, x, dims, keepdim, **kw):
    if dims is None:
        out = getattr(torch, name)(x, **kw)
        return out.reshape([1] * x.dim()) if keepdim else out
    return getattr(torch, name)(x, dim=dims, keepdim=keepdim, **kw)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean(device, name, dtype, dims, keepdim):
    x = randn((4, 5, 6), dtype)
    dl = None if dims is None else list(dims)
    check_op(lambda v: getattr(ops, name)(v, dl, keepdim), lambda t: torch_reduce(name, t, dims, keepdim), [x.requires_grad_()], device, TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_with_ties(device, name, dtype, dims, keepdim):
    # Small integers make ties common: the gradient is shared evenly among them.
    x = torch.randint(-3, 4, (4, 5, 6), generator=torch.Generator().manual_seed(3)).to(dtype)
    dl = [] if dims is None else list(dims)
    check_op(lambda v: getattr(ops, name)(v, dl, keepdim), lambda t: getattr(torch, name)(t, dim=dims if dims else (), keepdim=keepdim), [x.requires_grad_()], device, TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim(device, name, dtype, dim, keepdim):
    x = torch.randint(-3, 4, (4, 5, 6), generator=torch.Generator().manual_seed(4)).to(dtype)
    ref_v, ref_i = getattr(torch, name)(x, dim, keepdim)
    v, i = getattr(ops, name + "_dim")(to_vt(x, device), dim, keepdim)
    assert_close(v, ref_v)
    assert_close(i, ref_i)  # ties: the first index, as torch
    check_op(lambda t: getattr(ops, name + "_dim")(t, dim, keepdim)[0], lambda t: getattr(torch, name)(t, dim, keepdim)[0], [randn((4, 5, 6), dtype).requires_grad_()], device, TOL[dtype])


def test_max_dim_indices_do_not_require_grad(device):
    xv = to_vt(randn((3, 4)), device, requires_grad=True)
    v, i = ops.max_dim(xv, 1)
    assert v.requires_grad and not i.requires_grad
    assert i.dtype == DT.int64


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int32])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(device, name, dtype, dim, keepdim):
    x = torch.randint(-5, 6, (7, 9), generator=torch.Generator().manual_seed(5)).to(dtype)
    assert_close(getattr(ops, name)(to_vt(x, device), dim, keepdim), getattr(torch, name)(x, dim, keepdim))
    xt = x.t()  # non-contiguous
    assert_close(getattr(ops, name)(ops.transpose(to_vt(x, device), 0, 1), dim, keepdim), getattr(torch, name)(xt, dim, keepdim))


def test_nan_propagation(device):
    x = torch.tensor([[1.0, float("nan"), 3.0, float("nan")], [4.0, 2.0, 0.0, 1.0]])
    xv = to_vt(x, device)
    assert_close(ops.amax(xv, [1]), torch.amax(x, 1), equal_nan=True)
    assert_close(ops.amin(xv, [1]), torch.amin(x, 1), equal_nan=True)
    for name in ["max", "min"]:
        v, i = getattr(ops, name + "_dim")(xv, 1)
        rv, ri = getattr(torch, name)(x, 1)
        assert_close(v, rv, equal_nan=True)
        assert_close(i, ri)
    assert_close(ops.argmax(xv, 1), torch.argmax(x, 1))
    assert_close(ops.argmin(xv, None), torch.argmin(x))
    x = torch.tensor([[1.0, float("nan"), 3.0, float("nan")], [4.0, 2.0, 0.0, 1.0], [float("-inf")] * 4])
    big = torch.zeros(2, 5000)
    big[0, 4000] = float("nan")
    big[0, 4500] = float("nan")
    big[1, 10] = 7.0
    # (input, dim): the warp, split-row and outer kernels
    for t, d in ((x, 1), (big, 1), (big.t().contiguous(), 0)):
        for dt in (torch.float32, torch.float16):
            tt = t.to(dt)
            tv = to_vt(tt, device)
            assert_close(ops.amax(tv, [d]), torch.amax(tt, d))
            assert_close(ops.amin(tv, [d]), torch.amin(tt, d))
            for name in ["max", "min"]:
                v, i = getattr(ops, name + "_dim")(tv, d)
                rv, ri = getattr(torch, name)(tt, d)
                assert_close(v, rv)
                assert_close(i, ri, rtol=0, atol=0)
            assert_close(ops.argmax(tv, d), torch.argmax(tt, d), rtol=0, atol=0)
            assert_close(ops.argmin(tv, None), torch.argmin(tt), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dims", [None, (0,), (1,), (0, 2), (-1,)])
@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var(device, dtype, dims, correction, keepdim):
    x = randn((4, 5, 6), dtype, scale=3.0) + 10  # an offset checks the two-pass formula
    dl = None if dims is None else list(dims)

    def ref(t):
        if dims is None:
            out = torch.var(t, correction=correction)
            return out.reshape(1, 1, 1) if keepdim else out
        return torch.var(t, dim=dims, correction=correction, keepdim=keepdim)
    check_op(lambda v: ops.var(v, dl, correction, keepdim), ref, [x.requires_grad_()], device, TOL[dtype])


def test_var_divisor_not_positive(device):
    assert math.isnan(to_torch(ops.var(to_vt(torch.tensor([1.0]), device))).item())
    assert math.isinf(to_torch(ops.var(to_vt(torch.tensor([1.0, 2.0]), device), None, 2)).item())


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
def test_layouts_contiguous(device, shape, dims):
    x = randn(shape, torch.float64)
    for name in ["sum", "amax"]:
        assert_close(getattr(ops, name)(to_vt(x, device), list(dims)), getattr(torch, name)(x, dims), **TOL[torch.float64])
    if len(dims) == 1:
        v, i = ops.max_dim(to_vt(x, device), dims[0])
        rv, ri = torch.max(x, dims[0])
        assert_close(v, rv)
        assert_close(i, ri)
        assert_close(ops.argmin(to_vt(x, device), dims[0]), torch.argmin(x, dims[0]))


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1)])
def test_layouts_transposed_and_sliced(device, dims):
    base = randn((300, 200), torch.float64)
    # A transposed view is read in place (its permutation is contiguous).
    check_op(lambda v: ops.sum(ops.transpose(v, 0, 1), list(dims)), lambda t: torch.sum(t.t(), dims), [base.requires_grad_()], device, TOL[torch.float64])
    # A strided slice is copied first.
    check_op(lambda v: ops.amax(ops.slice(v, 1, 1, None, 3), list(dims)), lambda t: torch.amax(t[:, 1::3], dims), [base.requires_grad_()], device, TOL[torch.float64])
    check_op(lambda v: ops.max_dim(ops.transpose(v, 0, 1), dims[0])[0], lambda t: torch.max(t.t(), dims[0])[0], [base.requires_grad_()], device, TOL[torch.float64])


def test_float32_sum_accuracy(device):
    # Pairwise accumulation keeps a long float32 sum close to the float64 result.
    x = randn((2_000_000,), torch.float32) + 1.0
    exact = x.double().sum().item()
    got = to_torch(ops.sum(to_vt(x, device))).item()
    assert abs(got - exact) <= 1e-5 * abs(exact)
    cols = randn((100_000, 4), torch.float32) + 1.0
    torch.testing.assert_close(to_torch(ops.sum(to_vt(cols, device), [0])).double(), cols.double().sum(0), rtol=1e-5, atol=0)


# ---- dtypes --------------------------------------------------------------------------------

def test_integer_and_bool_sum_give_int64(device):
    xi = torch.randint(-100, 100, (5, 6), dtype=torch.int32)
    assert_close(ops.sum(to_vt(xi, device), [1]), torch.sum(xi, 1))
    xb = torch.rand(5, 6) > 0.5
    assert_close(ops.sum(to_vt(xb, device)), torch.sum(xb))
    assert_close(ops.sum(to_vt(xi, device), [0], False, DT.int32), torch.sum(xi, 0, dtype=torch.int32))


def test_dtype_argument(device):
    x = randn((4, 5), torch.float32)
    assert_close(ops.sum(to_vt(x, device), [1], False, DT.float64), torch.sum(x, 1, dtype=torch.float64))
    xi = torch.randint(0, 10, (4, 5))
    assert_close(ops.mean(to_vt(xi, device), None, False, DT.float64), torch.mean(xi, dtype=torch.float64))
    # sum in float64 of a float32 input: the gradient comes back as float32.
    xv = to_vt(x, device, requires_grad=True)
    backward(ops.sum(ops.sum(xv, [1], False, DT.float64)))
    assert_close(xv.grad, torch.ones(4, 5))
    x = rand((40, 50), torch.float16, seed=9)
    assert_close(ops.sum(to_vt(x, device), [1], False, DT.float32), torch.sum(x, 1, dtype=torch.float32), rtol=1e-5,
                 atol=1e-4)
    xi = rand((40, 50), torch.int64, 0, 10, seed=10)
    assert_close(ops.mean(to_vt(xi, device), None, False, DT.float64), torch.mean(xi, dtype=torch.float64))
    assert_close(ops.mean(to_vt(xi, device), [0], True, DT.float32), torch.mean(xi, 0, True, dtype=torch.float32))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_forward(device, dtype):
    x = randn((16, 300), dtype)
    ref = x.float()
    tol = dict(rtol=2e-2, atol=2e-2)
    assert to_torch(ops.sum(to_vt(x, device), [1])).dtype == dtype
    torch.testing.assert_close(to_torch(ops.sum(to_vt(x, device), [1])).float(), ref.sum(1), rtol=2e-2, atol=0.2)
    torch.testing.assert_close(to_torch(ops.mean(to_vt(x, device), [0])).float(), ref.mean(0), **tol)
    torch.testing.assert_close(to_torch(ops.var(to_vt(x, device), [1])).float(), ref.var(1), **tol)
    torch.testing.assert_close(to_torch(ops.amax(to_vt(x, device), [1])), torch.amax(x, 1))
    assert_close(ops.argmax(to_vt(x, device), 1), torch.argmax(x, 1))


def test_zero_dim_and_empty(device):
    s = torch.tensor(2.5)
    assert_close(ops.sum(to_vt(s, device)), torch.sum(s))
    assert_close(ops.sum(to_vt(s, device), [0], True), torch.sum(s, 0, keepdim=True))
    v, i = ops.max_dim(to_vt(s, device), 0)
    assert_close(v, s)
    assert_close(i, torch.tensor(0))
    e = torch.empty(0, 3)
    assert_close(ops.sum(to_vt(e, device), [0]), torch.zeros(3))
    assert_close(ops.mean(to_vt(e, device), [0]), torch.mean(e, 0), equal_nan=True)
    assert_close(ops.argmax(to_vt(s, device), None), torch.argmax(s))
    assert_close(ops.sum(to_vt(e, device)), torch.sum(e))
    assert_close(ops.amax(to_vt(e, device), [1]), torch.amax(e, 1))
    v, i = ops.max_dim(to_vt(e, device), 1)
    assert tuple(to_torch(v).shape) == (0,) and tuple(to_torch(i).shape) == (0,)
    eo = torch.empty(4, 0)  # the outer path with nothing to reduce
    assert_close(ops.sum(to_vt(eo, device), [1]), torch.zeros(4))
    assert_close(ops.sum(to_vt(torch.empty(0, 5, 3), device), [0]), torch.zeros(5, 3))


# ---- errors ----------------------------------------------------------------------------------

def test_errors(device):
    xv = to_vt(randn((3, 4)), device)
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
        ops.mean(to_vt(torch.ones(3, dtype=torch.int64), device))
    with pytest.raises(TypeError):
        ops.var(to_vt(torch.ones(3, dtype=torch.int64), device))
    with pytest.raises(TypeError):
        ops.mean(xv, None, False, DT.int64)
    with pytest.raises(TypeError):
        ops.argmax(to_vt(torch.ones(3, dtype=torch.bool), device))
    with pytest.raises(TypeError):
        ops.sum(xv, "a")
    with pytest.raises(IndexError, match="non-zero size"):
        ops.amax(to_vt(torch.empty(0, 3), device), [0])
    with pytest.raises(IndexError, match="non-zero size"):
        ops.max_dim(to_vt(torch.empty(0, 3), device), 0)
    with pytest.raises(RuntimeError, match="specify the reduction dim"):
        ops.amin(to_vt(torch.empty(0, 3), device))
    with pytest.raises(RuntimeError, match="specify the reduction dim"):
        ops.argmax(to_vt(torch.empty(0, 3), device))
    e = to_vt(torch.empty(0, 3), device)
    with pytest.raises(RuntimeError, match="specify the reduction dim"):
        ops.amax(e, [])
    with pytest.raises(IndexError, match="non-zero size"):
        ops.amax(e, [0])
    with pytest.raises(IndexError, match="non-zero size"):
        ops.max_dim(e, 0)
    with pytest.raises(RuntimeError):
        ops.argmin(e, None)


# ---- every layout path of the CUDA kernels (Note [CUDA reductions]), dtypes and backward ----
# Note [Kernel layout tests run on CUDA]
# The *_layouts tests walk the CUDA kernels' launch shapes over every dtype; on the CPU the same
# sizes cost about 40 s of CI on two cores and reach no path that test_layouts_* does not, so they
# take the CUDA device only (so does test_softmax_norm_loss.py's test_softmax_backward: about 18 s). Every other test here runs on both devices.

ALL_FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]


INTS = [torch.int64, torch.int32]


SUM_TOL = {torch.float32: (1e-5, 1e-4), torch.float64: (1e-12, 1e-10), torch.float16: (2e-3, 2e-2),
           torch.bfloat16: (1.6e-2, 1e-1)}


def vt_dims(dims):
    return None if dims is None else list(dims)


KERNEL_LAYOUTS = [
    ((6, 7, 8), None),            # full, small: one warp
    ((1000, 1003), None),         # full, large: split into chunks + merge pass
    ((1000, 5), (1,)),            # inner, a thread per short row
    ((37, 300), (1,)),            # inner, warp per row, odd row length (scalar loads)
    ((37, 512), (-1,)),           # inner, warp per row, aligned (vector loads)
    ((9, 5000), (1,)),            # inner, block per row, few rows: split rows
    ((300, 2049), (1,)),          # inner, block per row, unaligned rows
    ((513, 300), (0,)),           # outer: a column per thread
    ((40000, 3), (0,)),           # outer: few columns, many rows: split reduced dim
    ((20, 300, 17), (1,)),        # middle dim (outer with O > 1)
    ((20, 30, 17), (0, 2)),       # interleaved dims: copied first
    ((8, 9, 10, 11), (1, 2)),     # a block of middle dims
    ((64, 33, 30), (0, 1)),       # leading block
]


@pytest.mark.parametrize("device", CUDA_ONLY)  # See Note [Kernel layout tests run on CUDA]
@pytest.mark.parametrize("shape,dims", KERNEL_LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_FLOATS)
def test_sum_mean_layouts(device, shape, dims, dtype):
    x = rand(shape, dtype, seed=1)
    r, a = SUM_TOL[dtype]
    for name in ["sum", "mean"]:
        for keepdim in (False, True):
            got = getattr(ops, name)(to_vt(x, device), vt_dims(dims), keepdim)
            ref = torch_reduce(name, x.double(), dims, keepdim).to(dtype)
            assert_close(got, ref, rtol=r, atol=a * (10 if name == "sum" else 1))


@pytest.mark.parametrize("device", CUDA_ONLY)  # See Note [Kernel layout tests run on CUDA]
@pytest.mark.parametrize("shape,dims", KERNEL_LAYOUTS)
@pytest.mark.parametrize("dtype", ALL_FLOATS + INTS)
def test_amax_amin_layouts(device, shape, dims, dtype):
    x = rand(shape, dtype, -50, 50, seed=2)
    for name in ["amax", "amin"]:
        got = getattr(ops, name)(to_vt(x, device), vt_dims(dims) or [], True)
        ref = getattr(torch, name)(x, dim=dims if dims else (), keepdim=True)
        assert_close(got, ref, rtol=0, atol=0)


@pytest.mark.parametrize("device", CUDA_ONLY)  # See Note [Kernel layout tests run on CUDA]
@pytest.mark.parametrize("shape,dim", [((500, 3), 1), ((37, 300), 1), ((9, 5000), 1), ((9, 5000), -1), ((513, 300), 0),
                                       ((40000, 3), 0), ((20, 300, 17), 1), ((3000,), 0), ((300000,), 0)])
@pytest.mark.parametrize("dtype", ALL_FLOATS + INTS)
def test_max_min_dim_and_arg_layouts(device, shape, dim, dtype):
    # Few distinct values: ties everywhere, so the index must be the first occurrence.
    x = rand(shape, dtype, -3, 3, seed=3).round() if dtype in ALL_FLOATS else rand(shape, dtype, -3, 3, seed=3)
    xv = to_vt(x, device)
    for name in ["max", "min"]:
        for keepdim in (False, True):
            v, i = getattr(ops, name + "_dim")(xv, dim, keepdim)
            rv, ri = getattr(torch, name)(x, dim, keepdim)
            assert_close(v, rv, rtol=0, atol=0)
            assert_close(i, ri, rtol=0, atol=0)
    for name in ["argmax", "argmin"]:
        assert_close(getattr(ops, name)(xv, dim, False), getattr(torch, name)(x, dim), rtol=0, atol=0)
        assert_close(getattr(ops, name)(xv, None, False), getattr(torch, name)(x), rtol=0, atol=0)
        assert_close(getattr(ops, name)(xv, None, True), getattr(torch, name)(x, keepdim=True), rtol=0, atol=0)


@pytest.mark.parametrize("view", ["transposed", "permuted", "sliced", "offset"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_non_contiguous_inputs(device, view, dtype):
    base = rand((60, 48, 10), dtype, seed=4)
    make = {
        "transposed": (lambda t: t.transpose(0, 1), lambda v: ops.transpose(v, 0, 1)),
        "permuted": (lambda t: t.permute(2, 0, 1), lambda v: ops.permute(v, [2, 0, 1])),
        "sliced": (lambda t: t[:, 1::3], lambda v: ops.slice(v, 1, 1, None, 3)),
        "offset": (lambda t: t[1:, :, 1:], lambda v: ops.slice(ops.slice(v, 0, 1, None, 1), 2, 1, None, 1)),
    }[view]
    x, xv = make[0](base), make[1](to_vt(base, device))
    r, a = SUM_TOL[dtype]
    for dims in [None, (0,), (1,), (2,), (0, 2), (1, 2)]:
        assert_close(ops.sum(xv, vt_dims(dims)), torch_reduce("sum", x.double(), dims, False).to(dtype),
                     rtol=r, atol=10 * a)
        assert_close(ops.amax(xv, vt_dims(dims) or []), torch.amax(x, dims if dims else ()), rtol=0, atol=0)
    for d in range(3):
        v, i = ops.min_dim(xv, d)
        rv, ri = torch.min(x, d)
        assert_close(v, rv, rtol=0, atol=0)
        assert_close(i, ri, rtol=0, atol=0)


def test_full_sum_large_float32_accuracy(device):
    x = rand((2_000_003,), torch.float32, 0, 2, seed=5)
    exact = x.double().sum().item()
    got = to_torch(ops.sum(to_vt(x, device))).item()
    assert abs(got - exact) <= 1e-5 * abs(exact)
    # same input, same result (no atomics)
    assert to_torch(ops.sum(to_vt(x, device))).item() == got


def test_deterministic_and_thread_safe(device):
    # Split reductions (full, split rows, split columns) give bitwise-equal results run after run,
    # also when several Python threads reduce at once.
    cases = [(rand((3_000_001,), torch.float32, seed=22), None), (rand((5, 200_000), torch.float32, seed=23), [1]),
             (rand((100_000, 7), torch.float32, seed=24), [0])]
    inputs = [(to_vt(x, device), d) for x, d in cases]
    expected = [to_torch(ops.sum(x, d)) for x, d in inputs]
    errors = []

    def work():
        try:
            for _ in range(5):
                for (x, d), e in zip(inputs, expected):
                    assert torch.equal(to_torch(ops.sum(x, d)), e)
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_integer_and_bool_sums(device):
    xi = rand((50, 700), torch.int32, -100, 100, seed=6)
    assert_close(ops.sum(to_vt(xi, device), [1]), torch.sum(xi, 1))
    assert_close(ops.sum(to_vt(xi, device)), torch.sum(xi))
    assert_close(ops.sum(to_vt(xi, device), [0], False, DT.int32), torch.sum(xi, 0, dtype=torch.int32))
    xl = rand((3, 100000), torch.int64, -1000, 1000, seed=7)
    assert_close(ops.sum(to_vt(xl, device), [1]), torch.sum(xl, 1))
    xb = rand((33, 65), torch.bool, seed=8)
    assert_close(ops.sum(to_vt(xb, device)), torch.sum(xb))
    assert_close(ops.sum(to_vt(xb, device), [0]), torch.sum(xb, 0))
    assert_close(ops.sum(to_vt(xb, device), [0], False, DT.bool), torch.sum(xb, 0, dtype=torch.bool))
    assert_close(ops.amax(to_vt(xb, device), [1]), torch.amax(xb, 1))
    v, i = ops.max_dim(to_vt(xb, device), 1)
    rv, ri = torch.max(xb, 1)
    assert_close(v, rv)
    assert_close(i, ri)


BACKWARD_DIMS = [None, (0,), (-1,), (0, 2), (1,)]


@pytest.mark.parametrize("dims", BACKWARD_DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "var"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_reduction_backward(device, name, dims, keepdim, dtype):
    # integers in the input make ties common for amax / amin: the gradient is shared evenly
    x = rand((5, 6, 70), dtype, -3, 3, seed=11)
    if name in ("amax", "amin"):
        x = x.round()
    xt = x.clone().requires_grad_()
    if name == "var":
        ref = torch.var(xt, dim=dims, keepdim=keepdim) if dims else torch.var(xt)
        if dims is None and keepdim:
            ref = ref.reshape(1, 1, 1)
        vfn = lambda v: ops.var(v, vt_dims(dims), 1, keepdim)  # noqa: E731
    elif name in ("amax", "amin"):
        ref = getattr(torch, name)(xt, dim=dims if dims else (), keepdim=keepdim)
        vfn = lambda v: getattr(ops, name)(v, vt_dims(dims) or [], keepdim)  # noqa: E731
    else:
        ref = torch_reduce(name, xt, dims, keepdim)
        vfn = lambda v: getattr(ops, name)(v, vt_dims(dims), keepdim)  # noqa: E731
    g = rand(tuple(ref.shape), dtype, seed=12)
    ref.backward(g)
    xv = to_vt(x, device, requires_grad=True)
    out = vfn(xv)
    assert out.grad_fn is not None
    assert_close(out, ref.detach(), rtol=1e-5, atol=1e-5)
    backward(out, g)
    assert_close(xv.grad, xt.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_backward(device, name, dim):
    x = rand((7, 9, 300), torch.float32, seed=13)
    xt = x.clone().requires_grad_()
    ref = getattr(torch, name)(xt, dim)[0]
    g = rand(tuple(ref.shape), torch.float32, seed=14)
    ref.backward(g)
    xv = to_vt(x, device, requires_grad=True)
    backward(getattr(ops, name + "_dim")(xv, dim, False)[0], g)
    assert_close(xv.grad, xt.grad)


def test_sum_to_size_and_half_backward(device):
    x = rand((4, 5, 6), torch.float32, seed=15)
    assert_close(ops.sum_to_size(to_vt(x, device), [5, 1]), x.sum_to_size(5, 1))
    assert_close(ops.sum_to_size(to_vt(x, device), [4, 1, 6]), x.sum_to_size(4, 1, 6))
    xh = rand((8, 300), torch.float16, seed=16)
    xt = xh.clone().requires_grad_()
    torch.sum(xt, 1).backward(torch.ones(8, dtype=torch.float16))
    xv = to_vt(xh, device, requires_grad=True)
    backward(ops.sum(xv, [1]), torch.ones(8, dtype=torch.float16))
    assert_close(xv.grad, xt.grad)
