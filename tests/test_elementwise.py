"""Every elementwise op against torch on every device: dtypes, broadcasting, strided and misaligned
operands, Python scalars (under both scalars.cuda policies), in-place forms, and backward through
the autograd kernels. CUDA-only: CPU 0-d operands of CUDA ops, the scalar device-copy ledger and
64-bit offsets."""
import math

import numpy as np
import pytest
import torch

import vibetensor as vt

from harness import (CPU, CUDA_ONLY, DT, as_device, assert_close, backward, check_op, item, ops, rand, randn,
                     to_numpy, to_torch, to_vt, vt_dtype)

FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INTS = [torch.int64, torch.int32]


# Layouts of two operands: (shape a, shape b, how to make b's view)
LAYOUTS = {
    "same": ((4, 257), (4, 257)),           # contiguous, vectorized path with a tail
    "broadcast": ((3, 1, 33), (5, 33)),     # broadcast, strided path
    "scalar0d": ((7, 9), ()),               # 0-d device tensor
}


def make_pair(layout, dtype, lo, hi):
    sa, sb = LAYOUTS[layout]
    return rand(sa, dtype, lo, hi, 1), rand(sb, dtype, lo, hi, 2)


BINARY = {
    # name: (vt fn, torch fn, dtypes, domain)
    "add": (lambda a, b: ops.add(a, b), torch.add, FLOATS + INTS + [torch.bool], (-3, 3)),
    "add_alpha": (lambda a, b: ops.add(a, b, alpha=2), lambda a, b: torch.add(a, b, alpha=2), FLOATS + INTS, (-3, 3)),
    "sub": (lambda a, b: ops.sub(a, b, alpha=1), torch.sub, FLOATS + INTS, (-3, 3)),
    "mul": (ops.mul, torch.mul, FLOATS + INTS + [torch.bool], (-3, 3)),
    "div": (ops.div, torch.div, FLOATS + INTS, (1, 4)),
    "pow": (ops.pow, torch.pow, FLOATS + INTS, (0, 3)),
    "maximum": (ops.maximum, torch.maximum, FLOATS + INTS, (-3, 3)),
    "minimum": (ops.minimum, torch.minimum, FLOATS + INTS, (-3, 3)),
}
COMPARE = {
    "eq": (ops.eq, torch.eq), "ne": (ops.ne, torch.ne), "lt": (ops.lt, torch.lt), "le": (ops.le, torch.le),
    "gt": (ops.gt, torch.gt), "ge": (ops.ge, torch.ge),
    "logical_and": (ops.logical_and, torch.logical_and), "logical_or": (ops.logical_or, torch.logical_or),
}
UNARY = {
    # name: (vt fn, torch fn, dtypes, domain)
    "neg": (ops.neg, torch.neg, FLOATS + INTS, (-3, 3)),
    "abs": (ops.abs, torch.abs, FLOATS + INTS, (-3, 3)),
    "exp": (ops.exp, torch.exp, FLOATS + INTS, (-3, 3)),
    "log": (ops.log, torch.log, FLOATS, (0.1, 5)),
    "sqrt": (ops.sqrt, torch.sqrt, FLOATS + INTS, (0, 9)),
    "rsqrt": (ops.rsqrt, torch.rsqrt, FLOATS, (0.1, 5)),
    "sin": (ops.sin, torch.sin, FLOATS, (-3, 3)),
    "cos": (ops.cos, torch.cos, FLOATS, (-3, 3)),
    "tanh": (ops.tanh, torch.tanh, FLOATS, (-3, 3)),
    "sigmoid": (ops.sigmoid, torch.sigmoid, FLOATS, (-5, 5)),
    "relu": (ops.relu, torch.relu, FLOATS + INTS, (-3, 3)),
    "gelu": (lambda x: ops.gelu(x), lambda x: torch.nn.functional.gelu(x), FLOATS, (-4, 4)),
    "gelu_tanh": (lambda x: ops.gelu(x, approximate="tanh"),
                  lambda x: torch.nn.functional.gelu(x, approximate="tanh"), FLOATS, (-4, 4)),
    # (integer clamp keeps the integer dtype in vibetensor, while torch promotes to float: floats only)
    "clamp": (lambda x: ops.clamp(x, -1.0, 1.5), lambda x: torch.clamp(x, -1.0, 1.5), FLOATS, (-3, 3)),
    "clamp_min": (lambda x: ops.clamp(x, min=0.5), lambda x: torch.clamp(x, min=0.5), FLOATS, (-3, 3)),
    "logical_not": (ops.logical_not, torch.logical_not, FLOATS + INTS + [torch.bool], (-1, 1)),
}


def ids(d):
    return str(d).replace("torch.", "")


def run_binary(device, vt_fn, t_fn, a, b):
    ref = t_fn(a, b)
    got = vt_fn(to_vt(a, device), to_vt(b, device))
    assert got.device == as_device(device)
    assert_close(got, ref)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", list(BINARY))
def test_binary(device, name, layout):
    vt_fn, t_fn, dtypes, (lo, hi) = BINARY[name]
    for dt in dtypes:
        a, b = make_pair(layout, dt, lo, hi)
        run_binary(device, vt_fn, t_fn, a, b)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_mixed_dtypes(device, name):
    vt_fn, t_fn, dtypes, (lo, hi) = BINARY[name]
    pairs = [(torch.float32, torch.float16), (torch.bfloat16, torch.float16), (torch.int32, torch.int64),
             (torch.int64, torch.float32), (torch.float64, torch.float32)]
    for da, db in pairs:
        if da not in dtypes or db not in dtypes:
            continue
        a, b = rand((6, 10), da, lo, hi, 3), rand((10,), db, lo, hi, 4)
        run_binary(device, vt_fn, t_fn, a, b)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_strided_and_misaligned(device, name):
    vt_fn, t_fn, dtypes, (lo, hi) = BINARY[name]
    for dt in dtypes[:3]:
        a, b = rand((33, 40), dt, lo, hi, 5), rand((40, 33), dt, lo, hi, 6)
        ref = t_fn(a, b.t())
        got = vt_fn(to_vt(a, device), ops.transpose(to_vt(b, device), 0, 1))
        assert_close(got, ref)
        # contiguous but not 16-byte aligned: the offset-1 slices skip the vectorized kernel
        a1, b1 = rand((1001,), dt, lo, hi, 7), rand((1001,), dt, lo, hi, 8)
        got = vt_fn(ops.slice(to_vt(a1, device), 0, 1, None, 1), ops.slice(to_vt(b1, device), 0, 1, None, 1))
        assert_close(got, t_fn(a1[1:], b1[1:]))


@pytest.mark.parametrize("policy", ["kernel_arg", "device_copy"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_binary_python_scalars(device, name, policy):
    vt_fn, t_fn, dtypes, (lo, hi) = BINARY[name]
    with vt.policy.override({"scalars.cuda": policy}):
        for dt in dtypes:
            a = rand((5, 31), dt, lo, hi, 9)
            for s in [2, 1.5, True]:
                if name == "pow" and isinstance(s, float) and dt in INTS:
                    continue
                if name == "sub" and isinstance(s, bool):  # torch refuses any bool operand of sub
                    for call in (lambda: t_fn(a, torch.tensor(s)), lambda: vt_fn(to_vt(a, device), s),
                                 lambda: vt_fn(s, to_vt(a, device))):
                        with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
                            call()
                    continue
                # torch's 0-d CPU tensor promotes like vibetensor's wrapped number
                assert_close(vt_fn(to_vt(a, device), s), t_fn(a, torch.tensor(s)))
                if name in ("add", "mul", "sub", "div"):
                    assert_close(vt_fn(s, to_vt(a, device)), t_fn(torch.tensor(s), a))


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_cpu_zero_dim_tensor_operand(device):
    a = rand((4, 5), torch.float32, seed=10)
    s = ops.full([], 3.0, dtype=DT.float64)  # a 0-d CPU tensor (not a wrapped number)
    assert_close(ops.mul(to_vt(a, device), s), a * torch.tensor(3.0, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="same device"):
        ops.mul(to_vt(a, device), ops.full([5], 1.0))


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_cpu_scalar_first_runs_on_cuda(device):
    # a 0-d CPU tensor does not decide the device, even as the first argument (as in torch)
    a = rand((4, 5), torch.float32, seed=47)
    s = ops.full([], 3.0)
    got = ops.sub(s, to_vt(a, device), alpha=1)
    assert got.device == as_device(device)
    assert_close(got, torch.tensor(3.0) - a)
    assert_close(ops.where(ops.full([], True), to_vt(a, device), 0.0), a)
    dst = ops.full([], 0.0)
    ops.copy_(dst, ops.full([], 5.0, device=as_device(device)))
    assert item(dst) == 5.0 and dst.device == CPU


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", list(COMPARE))
def test_compare(device, name, layout):
    vt_fn, t_fn = COMPARE[name]
    for dt in FLOATS + INTS + [torch.bool]:
        a, b = make_pair(layout, dt, -2, 2)
        run_binary(device, vt_fn, t_fn, a, b)
    a = rand((3, 8), torch.float32, seed=11)
    assert_close(vt_fn(to_vt(a, device), 0.5), t_fn(a, torch.tensor(0.5)))


@pytest.mark.parametrize("name", list(UNARY))
def test_unary(device, name):
    vt_fn, t_fn, dtypes, (lo, hi) = UNARY[name]
    for dt in dtypes:
        a = rand((5, 203), dt, lo, hi, 12)
        assert_close(vt_fn(to_vt(a, device)), t_fn(a))
        # strided input
        b = rand((40, 30), dt, lo, hi, 13)
        assert_close(vt_fn(ops.transpose(to_vt(b, device), 0, 1)), t_fn(b.t()))


def test_unary_special_values(device):
    x = torch.tensor([0.0, -0.0, float("inf"), -float("inf"), float("nan"), 1e-30, -1e30])
    for name in ["exp", "sigmoid", "tanh", "abs", "neg", "clamp"]:  # (relu(nan) is 0 in vibetensor, nan in torch)
        vt_fn, t_fn, _, _ = UNARY[name]
        assert_close(vt_fn(to_vt(x, device)), t_fn(x))
    a = torch.tensor([1.0, float("nan"), 3.0, -float("inf")])
    b = torch.tensor([float("nan"), 2.0, 3.0, 0.0])
    for name in ["maximum", "minimum"]:
        run_binary(device, BINARY[name][0], BINARY[name][1], a, b)


def test_bool_errors(device):
    t = to_vt(torch.tensor([True, False]), device)
    with pytest.raises(TypeError, match="bool"):
        ops.neg(t)
    with pytest.raises(RuntimeError, match="bool"):  # torch's message and type
        ops.sub(t, t)
    with pytest.raises(TypeError):
        ops.abs(t)


def test_where(device):
    for dt in FLOATS + INTS + [torch.bool]:
        c = rand((4, 1, 6), torch.bool, seed=14)
        a, b = rand((5, 6), dt, seed=15), rand((6,), dt, seed=16)
        assert_close(ops.where(to_vt(c, device), to_vt(a, device), to_vt(b, device)), torch.where(c, a, b))
    c = rand((3, 4), torch.bool, seed=17)
    a = rand((3, 4), torch.float32, seed=18)
    assert_close(ops.where(to_vt(c, device), to_vt(a, device), 0.0), torch.where(c, a, 0.0))
    with pytest.raises(TypeError, match="bool"):
        ops.where(to_vt(a, device), to_vt(a, device), to_vt(a, device))


def test_masked_fill(device):
    for dt in FLOATS + INTS + [torch.bool]:
        x = rand((4, 6), dt, seed=19)
        m = rand((6,), torch.bool, seed=20)
        v = True if dt == torch.bool else (2 if dt in INTS else -1.5)
        assert_close(ops.masked_fill(to_vt(x, device), to_vt(m, device), v), x.masked_fill(m, v))
        y = to_vt(x, device)
        ops.masked_fill_(y, to_vt(m, device), v)
        assert_close(y, x.masked_fill(m, v))


def test_gelu_and_threshold_backward(device):
    for dt in FLOATS:
        g, x = rand((7, 50), dt, seed=21), rand((7, 50), dt, -4, 4, seed=22)
        for approx in ["none", "tanh"]:
            ref = torch.ops.aten.gelu_backward(g, x, approximate=approx)
            assert_close(ops.gelu_backward(to_vt(g, device), to_vt(x, device), approx), ref)
    for dt in FLOATS + INTS:
        g, x = rand((7, 50), dt, seed=23), rand((7, 50), dt, seed=24)
        ref = torch.where(x > 0, g, torch.zeros_like(g))
        assert_close(ops.threshold_backward(to_vt(g, device), to_vt(x, device), 0.0), ref)


# ---- in-place --------------------------------------------------------------------------------

INPLACE = {
    "add_": (lambda s, o: ops.add_(s, o, alpha=0.5), lambda s, o: s.add_(o, alpha=0.5)),
    "sub_": (lambda s, o: ops.sub_(s, o), lambda s, o: s.sub_(o)),
    "mul_": (ops.mul_, lambda s, o: s.mul_(o)),
    "div_": (ops.div_, lambda s, o: s.div_(o)),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_binary(device, name):
    vt_fn, t_fn = INPLACE[name]
    for dt in FLOATS:
        s, o = rand((6, 20), dt, 1, 3, 25), rand((20,), dt, 1, 3, 26)
        vs = to_vt(s, device)
        ptr, version = vs.data_ptr(), vs._version
        out = vt_fn(vs, to_vt(o, device))
        ref = t_fn(s.clone(), o)
        assert out._is_same(vs) and vs.data_ptr() == ptr and vs._version > version
        assert_close(vs, ref)
        vs2 = to_vt(s, device)
        vt_fn(vs2, 2.0)
        assert_close(vs2, t_fn(s.clone(), 2.0))
    if name in ("sub_", "mul_"):
        s, o = rand((6, 20), torch.int64, 1, 3, 27), rand((20,), torch.int64, 1, 3, 28)
        vs = to_vt(s, device)
        vt_fn(vs, to_vt(o, device))
        assert_close(vs, t_fn(s.clone(), o))
    with pytest.raises(ValueError, match="doesn't match the broadcast shape"):
        vt_fn(to_vt(rand((20,), torch.float32), device), to_vt(rand((6, 20), torch.float32), device))


def test_inplace_type_errors(device):
    i = to_vt(rand((4,), torch.int64), device)
    f = to_vt(rand((4,), torch.float32), device)
    with pytest.raises(TypeError, match="can't be cast"):
        ops.add_(i, f)
    with pytest.raises(TypeError):
        ops.div_(i, i)


def test_addcmul_addcdiv_clamp_(device):
    for dt in FLOATS:
        s, a, b = rand((5, 16), dt, seed=29), rand((5, 16), dt, seed=30), rand((16,), dt, 1, 2, seed=31)
        vs = to_vt(s, device)
        ops.addcmul_(vs, to_vt(a, device), to_vt(b, device), value=0.5)
        assert_close(vs, s.clone().addcmul_(a, b, value=0.5))
        vs = to_vt(s, device)
        ops.addcdiv_(vs, to_vt(a, device), to_vt(b, device), value=-2)
        assert_close(vs, s.clone().addcdiv_(a, b, value=-2))
        vs = to_vt(s, device)
        ops.clamp_(vs, -0.5, 0.5)
        assert_close(vs, s.clone().clamp_(-0.5, 0.5))


def test_fill_zero_copy_inplace(device):
    for dt in FLOATS + INTS + [torch.bool]:
        x = rand((3, 10), dt, seed=32)
        vx = to_vt(x, device)
        ops.fill_(vx, 1)
        assert_close(vx, torch.ones_like(x))
        ops.zero_(vx)
        assert_close(vx, torch.zeros_like(x))
        src = rand((10,), torch.float32, seed=33)
        ops.copy_(vx, to_vt(src, device))
        assert_close(vx, torch.zeros_like(x).copy_(src))


def test_clone_and_to_dtype(device):
    for dt in FLOATS + INTS + [torch.bool]:
        x = rand((9, 11), dt, seed=34)
        assert_close(ops.clone(ops.transpose(to_vt(x, device), 0, 1)), x.t().contiguous())
        for dt2 in FLOATS + INTS + [torch.bool]:
            assert_close(ops.to_dtype(to_vt(x, device), vt_dtype(dt2)), x.to(dt2), rtol=0, atol=0)


# ---- backward through the autograd kernels ----------------------------------------------------------

BACKWARD_BINARY = ["add", "add_alpha", "sub", "mul", "div", "pow", "maximum", "minimum"]
BACKWARD_UNARY = ["neg", "abs", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu", "gelu",
                  "gelu_tanh", "clamp"]


@pytest.mark.parametrize("name", BACKWARD_BINARY)
def test_binary_backward(device, name):
    vt_fn, t_fn, _, (lo, hi) = BINARY[name]
    lo = max(lo, 0.5) if name in ("pow", "div") else lo
    a, b = rand((6, 17), torch.float32, lo, hi, 35), rand((6, 17), torch.float32, lo, hi, 36)
    g = rand((6, 17), torch.float32, seed=37)
    ta, tb = a.clone().requires_grad_(), b.clone().requires_grad_()
    t_fn(ta, tb).backward(g)
    va, vb = to_vt(a, device, requires_grad=True), to_vt(b, device, requires_grad=True)
    out = vt_fn(va, vb)
    assert out.grad_fn is not None
    backward(out, g)
    assert_close(va.grad, ta.grad, rtol=1e-4, atol=1e-5)
    assert_close(vb.grad, tb.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", BACKWARD_UNARY)
def test_unary_backward(device, name):
    vt_fn, t_fn, _, (lo, hi) = UNARY[name]
    a = rand((6, 17), torch.float32, lo, hi, 38)
    g = rand((6, 17), torch.float32, seed=39)
    ta = a.clone().requires_grad_()
    t_fn(ta).backward(g)
    va = to_vt(a, device, requires_grad=True)
    backward(vt_fn(va), g)
    assert_close(va.grad, ta.grad, rtol=1e-4, atol=1e-5)


def test_where_masked_fill_backward(device):
    c = rand((5, 7), torch.bool, seed=40)
    a, b, g = (rand((5, 7), torch.float32, seed=s) for s in (41, 42, 43))
    ta, tb = a.clone().requires_grad_(), b.clone().requires_grad_()
    (torch.where(c, ta, tb) * 1).backward(g)
    va, vb = to_vt(a, device, requires_grad=True), to_vt(b, device, requires_grad=True)
    backward(ops.where(to_vt(c, device), va, vb), g)
    assert_close(va.grad, ta.grad)
    assert_close(vb.grad, tb.grad)
    ta = a.clone().requires_grad_()
    ta.masked_fill(c, 0.0).backward(g)
    va = to_vt(a, device, requires_grad=True)
    backward(ops.masked_fill(va, to_vt(c, device), 0.0), g)
    assert_close(va.grad, ta.grad)


def test_inplace_backward(device):
    a, g = rand((4, 9), torch.float32, seed=44), rand((4, 9), torch.float32, seed=45)
    ta = a.clone().requires_grad_()
    y = ta * 2
    y.mul_(ta)
    y.backward(g)
    va = to_vt(a, device, requires_grad=True)
    vy = ops.mul(va, 2.0)
    ops.mul_(vy, va)
    backward(vy, g)
    assert_close(va.grad, ta.grad, rtol=1e-4, atol=1e-5)


# ---- CUDA only: scalars.cuda=device_copy is a real synchronous copy ------------------------------

@pytest.mark.parametrize("device", CUDA_ONLY)
def test_scalars_device_copy_is_counted(device):
    x = to_vt(rand((1000,), torch.float32, seed=46), device)
    with vt.policy.override({"scalars.cuda": "kernel_arg"}):
        vt.cuda.reset_sync_ledger()
        y1 = ops.mul(x, 2.0)
        ops.add_(y1, 1)
        assert "scalar_device_copy" not in vt.cuda.sync_ledger()
    with vt.policy.override({"scalars.cuda": "device_copy"}):
        vt.cuda.reset_sync_ledger()
        y2 = ops.mul(x, 2.0)
        ops.add_(y2, 1)
        z = ops.where(ops.gt(x, 0.0), x, 0.0)
        assert vt.cuda.sync_ledger().get("scalar_device_copy", 0) == 4  # 2.0, 1, 0.0 (gt), 0.0 (where)
        # a 0-d CPU tensor that is not a wrapped number stays a kernel argument
        vt.cuda.reset_sync_ledger()
        ops.mul(x, ops.full([], 2.0))
        assert "scalar_device_copy" not in vt.cuda.sync_ledger()
    np.testing.assert_array_equal(to_numpy(y1), to_numpy(y2))
    ref = to_torch(x)
    assert_close(z, torch.where(ref > 0, ref, 0.0))


@pytest.mark.parametrize("device", CUDA_ONLY)
def test_large_tensor_64bit_offsets(device):
    # more than 2^31 bytes of offsets in a broadcast input: the 64-bit index kernel
    n = (1 << 29) + 7  # 2 GiB of float32
    try:
        a = ops.full([n], 1.0, device=as_device(device))
    except RuntimeError as e:
        pytest.skip(f"not enough GPU memory: {e}")
    b = ops.add(a, 1.0)
    assert item(ops.select(b, 0, n - 1)) == 2.0
    s = ops.slice(a, 0, 0, None, 2)  # strided, offsets up to 2^31 bytes
    c = ops.mul(s, 3.0)
    assert item(ops.select(c, 0, c.shape[0] - 1)) == 3.0
    del a, b, c, s


# ---- pow with a Python-number exponent (Note [Scalar exponents]) ------------------------------

@pytest.mark.parametrize("exponent", [2, 3, -2, 0.5, -0.5, -1, 1, 0, 2.5, 2.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_pow_scalar_exponent_forward_backward(device, exponent, dtype):
    # positive inputs for roots, signed ones (zero included) for the integral exponents
    signed = isinstance(exponent, int) and exponent >= 0
    x = randn((7, 9), dtype, 41) * 2 if signed else rand((7, 9), dtype, 0.25, 3.0, 41)
    if signed:
        x[0, 0] = 0.0
    x = x.t().requires_grad_()  # non-contiguous
    check_op(lambda t: t ** exponent, lambda t: t ** exponent, [x], device, tol={"rtol": 1e-6, "atol": 1e-6})
    check_op(lambda t: t.pow(exponent), lambda t: t.pow(exponent), [x], device, tol={"rtol": 1e-6, "atol": 1e-6})


def test_pow_scalar_exponent_special_values(device):
    x = torch.tensor([0.0, -0.0, -1.5, float("inf"), float("-inf"), float("nan"), 1e-30])
    for e in (2, 3, -2, 0.5, -0.5, -1):
        assert_close(ops.pow(to_vt(x, device), e), torch.pow(x, e), equal_nan=True)
    xi = torch.tensor([-3, 0, 2, 5])
    assert_close(ops.pow(to_vt(xi, device), 2), torch.pow(xi, 2))  # integers keep the integer path


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float32_accuracy_over_the_tails(approximate):
    """The CPU's vectorized erf / tanh (ops/cpu/fast_math.h) keep float32 GELU and its gradient as close
    to a float64 reference as torch's own float32 GELU is, from -8 to 8 (the tails included)."""
    x = np.linspace(-8, 8, 400_001, dtype=np.float32)
    xd = torch.from_numpy(x).double().requires_grad_()
    ref = torch.nn.functional.gelu(xd, approximate=approximate)
    ref.sum().backward()
    theirs = torch.nn.functional.gelu(torch.from_numpy(x), approximate=approximate).double()
    bound = max(2e-6, 1.5 * (theirs - ref).abs().max().item())
    xv = vt.tensor(x).requires_grad_()
    y = vt.nn.functional.gelu(xv, approximate=approximate)
    y.sum().backward()
    assert np.abs(y.detach().numpy() - ref.detach().numpy()).max() < bound
    assert np.abs(xv.grad.numpy() - xd.grad.numpy()).max() < 1e-6


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_exp_sigmoid_tanh_at_the_ends_of_the_float_range(device, dtype):
    """The CPU's vectorized float32 exp clamped its power of two to the normal range: exp(-inf) was FLT_MIN
    (1.2e-38), not 0, exp(-100) the same, and exp(88.7) inf where it is 3.3e38."""
    x = torch.tensor([-math.inf, -200.0, -110.0, -104.0, -100.0, -90.0, -87.5, -87.3, -1e-3, 0.0, 10.0, 88.0,
                      88.7, 88.72, 89.0, 200.0, math.inf, math.nan], dtype=dtype)
    v = to_vt(x, device)
    tiny = torch.finfo(dtype).tiny * torch.finfo(dtype).eps  # a denormal ulp: the tail's own rounding
    for name in ("exp", "sigmoid", "tanh"):
        assert_close(getattr(vt, name)(v), getattr(torch, name)(x), rtol=1e-6, atol=tiny)
    assert to_torch(vt.exp(v))[0].item() == 0.0
