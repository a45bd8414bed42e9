"""CUDA reductions (sum, mean, amax, amin, max_dim, min_dim, argmax, argmin, var, sum_to_size) and
the softmax family against PyTorch: every layout path of the kernels (Note [CUDA reductions],
Note [CUDA softmax]), dtypes, NaN and ties, empty inputs, forward and backward through the
autograd kernels, and error paths."""
import pytest

from cuda_util import (DT, assert_close, from_torch, leaf, ops, requires_gpu, to_torch, torch_mod, vt_backward,
                       vt_dtype)

pytestmark = requires_gpu
torch = torch_mod()

FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INTS = [torch.int64, torch.int32]
# float sums of many elements: relative tolerances per dtype (accumulation in float / double)
SUM_TOL = {torch.float32: (1e-5, 1e-4), torch.float64: (1e-12, 1e-10), torch.float16: (2e-3, 2e-2),
           torch.bfloat16: (1.6e-2, 1e-1)}


def rand(shape, dtype, lo=-3.0, hi=3.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.rand(shape, generator=g) > 0.5
    if dtype in INTS:
        return torch.randint(int(lo), int(hi) + 1, shape, generator=g, dtype=dtype)
    return (torch.rand(shape, generator=g, dtype=torch.float64) * (hi - lo) + lo).to(dtype)


def vt_dims(dims):
    return None if dims is None else list(dims)


def torch_reduce(name, x, dims, keepdim, **kw):
    if dims is None:
        out = getattr(torch, name)(x, **kw)
        return out.reshape([1] * x.dim()) if keepdim else out
    return getattr(torch, name)(x, dim=dims, keepdim=keepdim, **kw)


# Shapes and reduced dims that reach each kernel path: (shape, dims)
LAYOUTS = [
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


@pytest.mark.parametrize("shape,dims", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_sum_mean_layouts(shape, dims, dtype):
    x = rand(shape, dtype, seed=1)
    r, a = SUM_TOL[dtype]
    for name in ["sum", "mean"]:
        for keepdim in (False, True):
            got = getattr(ops, name)(from_torch(x), vt_dims(dims), keepdim)
            ref = torch_reduce(name, x.double(), dims, keepdim).to(dtype)
            assert_close(got, ref, rtol=r, atol=a * (10 if name == "sum" else 1))


@pytest.mark.parametrize("shape,dims", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_amax_amin_layouts(shape, dims, dtype):
    x = rand(shape, dtype, -50, 50, seed=2)
    for name in ["amax", "amin"]:
        got = getattr(ops, name)(from_torch(x), vt_dims(dims) or [], True)
        ref = getattr(torch, name)(x, dim=dims if dims else (), keepdim=True)
        assert_close(got, ref, rtol=0, atol=0)


@pytest.mark.parametrize("shape,dim", [((500, 3), 1), ((37, 300), 1), ((9, 5000), 1), ((9, 5000), -1), ((513, 300), 0),
                                       ((40000, 3), 0), ((20, 300, 17), 1), ((3000,), 0), ((300000,), 0)])
@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_max_min_dim_and_arg_layouts(shape, dim, dtype):
    # Few distinct values: ties everywhere, so the index must be the first occurrence.
    x = rand(shape, dtype, -3, 3, seed=3).round() if dtype in FLOATS else rand(shape, dtype, -3, 3, seed=3)
    xv = from_torch(x)
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
def test_non_contiguous_inputs(view, dtype):
    base = rand((60, 48, 10), dtype, seed=4)
    make = {
        "transposed": (lambda t: t.transpose(0, 1), lambda v: ops.transpose(v, 0, 1)),
        "permuted": (lambda t: t.permute(2, 0, 1), lambda v: ops.permute(v, [2, 0, 1])),
        "sliced": (lambda t: t[:, 1::3], lambda v: ops.slice(v, 1, 1, None, 3)),
        "offset": (lambda t: t[1:, :, 1:], lambda v: ops.slice(ops.slice(v, 0, 1, None, 1), 2, 1, None, 1)),
    }[view]
    x, xv = make[0](base), make[1](from_torch(base))
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


def test_full_sum_large_float32_accuracy():
    x = rand((2_000_003,), torch.float32, 0, 2, seed=5)
    exact = x.double().sum().item()
    got = to_torch(ops.sum(from_torch(x))).item()
    assert abs(got - exact) <= 1e-5 * abs(exact)
    # same input, same result (no atomics)
    assert to_torch(ops.sum(from_torch(x))).item() == got


def test_deterministic_and_thread_safe():
    # Split reductions (full, split rows, split columns) give bitwise-equal results run after run,
    # also when several Python threads reduce at once.
    import threading
    cases = [(rand((3_000_001,), torch.float32, seed=22), None), (rand((5, 200_000), torch.float32, seed=23), [1]),
             (rand((100_000, 7), torch.float32, seed=24), [0])]
    inputs = [(from_torch(x), d) for x, d in cases]
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


def test_integer_and_bool_sums():
    xi = rand((50, 700), torch.int32, -100, 100, seed=6)
    assert_close(ops.sum(from_torch(xi), [1]), torch.sum(xi, 1))
    assert_close(ops.sum(from_torch(xi)), torch.sum(xi))
    assert_close(ops.sum(from_torch(xi), [0], False, DT.int32), torch.sum(xi, 0, dtype=torch.int32))
    xl = rand((3, 100000), torch.int64, -1000, 1000, seed=7)
    assert_close(ops.sum(from_torch(xl), [1]), torch.sum(xl, 1))
    xb = rand((33, 65), torch.bool, seed=8)
    assert_close(ops.sum(from_torch(xb)), torch.sum(xb))
    assert_close(ops.sum(from_torch(xb), [0]), torch.sum(xb, 0))
    assert_close(ops.sum(from_torch(xb), [0], False, DT.bool), torch.sum(xb, 0, dtype=torch.bool))
    assert_close(ops.amax(from_torch(xb), [1]), torch.amax(xb, 1))
    v, i = ops.max_dim(from_torch(xb), 1)
    rv, ri = torch.max(xb, 1)
    assert_close(v, rv)
    assert_close(i, ri)


def test_dtype_argument():
    x = rand((40, 50), torch.float16, seed=9)
    assert_close(ops.sum(from_torch(x), [1], False, DT.float32), torch.sum(x, 1, dtype=torch.float32), rtol=1e-5,
                 atol=1e-4)
    xi = rand((40, 50), torch.int64, 0, 10, seed=10)
    assert_close(ops.mean(from_torch(xi), None, False, DT.float64), torch.mean(xi, dtype=torch.float64))
    assert_close(ops.mean(from_torch(xi), [0], True, DT.float32), torch.mean(xi, 0, True, dtype=torch.float32))


def test_nan_propagation():
    x = torch.tensor([[1.0, float("nan"), 3.0, float("nan")], [4.0, 2.0, 0.0, 1.0], [float("-inf")] * 4])
    big = torch.zeros(2, 5000)
    big[0, 4000] = float("nan")
    big[0, 4500] = float("nan")
    big[1, 10] = 7.0
    # (input, dim): the warp, split-row and outer kernels
    for t, d in ((x, 1), (big, 1), (big.t().contiguous(), 0)):
        for dt in (torch.float32, torch.float16):
            tt = t.to(dt)
            tv = from_torch(tt)
            assert_close(ops.amax(tv, [d]), torch.amax(tt, d))
            assert_close(ops.amin(tv, [d]), torch.amin(tt, d))
            for name in ["max", "min"]:
                v, i = getattr(ops, name + "_dim")(tv, d)
                rv, ri = getattr(torch, name)(tt, d)
                assert_close(v, rv)
                assert_close(i, ri, rtol=0, atol=0)
            assert_close(ops.argmax(tv, d), torch.argmax(tt, d), rtol=0, atol=0)
            assert_close(ops.argmin(tv, None), torch.argmin(tt), rtol=0, atol=0)


def test_zero_dim_and_empty():
    s = torch.tensor(2.5)
    assert_close(ops.sum(from_torch(s)), torch.sum(s))
    assert_close(ops.sum(from_torch(s), [0], True), torch.sum(s, 0, keepdim=True))
    v, i = ops.max_dim(from_torch(s), 0)
    assert_close(v, s)
    assert_close(i, torch.tensor(0))
    assert_close(ops.argmax(from_torch(s), None), torch.argmax(s))
    e = torch.empty(0, 3)
    assert_close(ops.sum(from_torch(e), [0]), torch.zeros(3))
    assert_close(ops.sum(from_torch(e)), torch.sum(e))
    assert_close(ops.mean(from_torch(e), [0]), torch.mean(e, 0))
    assert_close(ops.sum(from_torch(e), [1]), torch.zeros(0))
    assert_close(ops.amax(from_torch(e), [1]), torch.amax(e, 1))
    v, i = ops.max_dim(from_torch(e), 1)
    assert tuple(to_torch(v).shape) == (0,) and tuple(to_torch(i).shape) == (0,)
    eo = torch.empty(4, 0)  # the outer path with nothing to reduce
    assert_close(ops.sum(from_torch(eo), [1]), torch.zeros(4))
    assert_close(ops.sum(from_torch(torch.empty(0, 5, 3)), [0]), torch.zeros(5, 3))


def test_errors():
    xv = from_torch(rand((3, 4), torch.float32))
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
        ops.mean(from_torch(torch.ones(3, dtype=torch.int64)))
    with pytest.raises(TypeError):
        ops.mean(xv, None, False, DT.int64)
    with pytest.raises(TypeError):
        ops.argmax(from_torch(torch.ones(3, dtype=torch.bool)), None)
    e = from_torch(torch.empty(0, 3))
    with pytest.raises(RuntimeError, match="specify the reduction dim"):
        ops.amax(e, [])
    with pytest.raises(IndexError, match="non-zero size"):
        ops.amax(e, [0])
    with pytest.raises(IndexError, match="non-zero size"):
        ops.max_dim(e, 0)
    with pytest.raises(RuntimeError):
        ops.argmin(e, None)


# ---- backward through the autograd kernels -------------------------------------------------------

BACKWARD_DIMS = [None, (0,), (-1,), (0, 2), (1,)]


@pytest.mark.parametrize("dims", BACKWARD_DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "var"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_reduction_backward(name, dims, keepdim, dtype):
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
    xv = leaf(x)
    out = vfn(xv)
    assert out.grad_fn is not None
    assert_close(out, ref.detach(), rtol=1e-5, atol=1e-5)
    vt_backward(out, g)
    assert_close(xv.grad, xt.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_backward(name, dim):
    x = rand((7, 9, 300), torch.float32, seed=13)
    xt = x.clone().requires_grad_()
    ref = getattr(torch, name)(xt, dim)[0]
    g = rand(tuple(ref.shape), torch.float32, seed=14)
    ref.backward(g)
    xv = leaf(x)
    vt_backward(getattr(ops, name + "_dim")(xv, dim, False)[0], g)
    assert_close(xv.grad, xt.grad)


def test_sum_to_size_and_half_backward():
    x = rand((4, 5, 6), torch.float32, seed=15)
    assert_close(ops.sum_to_size(from_torch(x), [5, 1]), x.sum_to_size(5, 1))
    assert_close(ops.sum_to_size(from_torch(x), [4, 1, 6]), x.sum_to_size(4, 1, 6))
    xh = rand((8, 300), torch.float16, seed=16)
    xt = xh.clone().requires_grad_()
    torch.sum(xt, 1).backward(torch.ones(8, dtype=torch.float16))
    xv = leaf(xh)
    vt_backward(ops.sum(xv, [1]), torch.ones(8, dtype=torch.float16))
    assert_close(xv.grad, xt.grad)


# ---- softmax family ------------------------------------------------------------------------------

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
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_forward(shape, dim, dtype, log):
    x = rand(shape, dtype, -8, 8, seed=17)
    fn = torch.log_softmax if log else torch.softmax
    ref = fn(x.double(), dim).to(dtype)
    r, a = softmax_tol(dtype)
    got = (ops.log_softmax if log else ops.softmax)(from_torch(x), dim)
    assert_close(got, ref, rtol=r, atol=a * (10 if log else 1))


@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_backward(shape, dim, dtype, log):
    x = rand(shape, torch.float64, -4, 4, seed=18)
    g = rand(shape, torch.float64, seed=19)
    fn = torch.log_softmax if log else torch.softmax
    xt = x.clone().requires_grad_()
    fn(xt, dim).backward(g)
    xv = leaf(x.to(dtype))
    out = (ops.log_softmax if log else ops.softmax)(xv, dim)
    vt_backward(out, g.to(dtype))
    r, a = softmax_tol(dtype)
    scale = 1 if dtype in (torch.float32, torch.float64) else 5
    assert_close(xv.grad, xt.grad.to(dtype), rtol=r * scale, atol=a * scale * 10)
    # the backward ops directly
    y = fn(x, dim).to(dtype)
    bw = ops.log_softmax_backward if log else ops.softmax_backward
    ref = (torch.ops.aten._log_softmax_backward_data if log else torch.ops.aten._softmax_backward_data)(
        g, fn(x, dim), dim, torch.float64).to(dtype)
    assert_close(bw(from_torch(g.to(dtype)), from_torch(y), dim), ref, rtol=r * scale, atol=a * scale * 10)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_non_contiguous_masking_and_stability(log):
    fn, vfn = (torch.log_softmax, ops.log_softmax) if log else (torch.softmax, ops.softmax)
    base = rand((64, 3000), torch.float32, -5, 5, seed=20)
    xt = base.t()[::2]  # (1500, 64), strided
    xv = ops.slice(ops.transpose(from_torch(base), 0, 1), 0, 0, None, 2)
    for d in (0, 1):
        assert_close(vfn(xv, d), fn(xt, d), rtol=1e-5, atol=1e-5)
    big = torch.tensor([[1000.0, 1001.0, -1000.0, float("-inf")], [float("-inf")] * 4, [0.0, float("nan"), 1.0, 2.0]])
    assert_close(vfn(from_torch(big), 1), fn(big, 1))


def test_softmax_zero_dim_empty_and_errors():
    s = torch.tensor(1.5)
    assert_close(ops.softmax(from_torch(s), 0), torch.softmax(s, 0))
    assert_close(ops.log_softmax(from_torch(s), -1), torch.log_softmax(s, -1))
    e = torch.empty(0, 5)
    assert_close(ops.softmax(from_torch(e), 1), torch.softmax(e, 1))
    with pytest.raises(IndexError):
        ops.softmax(from_torch(rand((3, 4), torch.float32)), 2)
    with pytest.raises(IndexError):
        ops.log_softmax(from_torch(rand((3, 4), torch.float32)), -3)
    with pytest.raises(TypeError):
        ops.softmax(from_torch(torch.ones(3, dtype=torch.int64)), 0)
    with pytest.raises(ValueError):
        ops.softmax_backward(from_torch(rand((3, 4), torch.float32)), from_torch(rand((4, 3), torch.float32)), 0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_dtypes_round_trip(dtype):
    # the vibetensor dtype of each torch dtype is what the kernels return
    x = rand((4, 9), dtype, seed=21)
    assert ops.sum(from_torch(x), [1]).dtype == vt_dtype(dtype)
    assert ops.softmax(from_torch(x), 1).dtype == vt_dtype(dtype)
