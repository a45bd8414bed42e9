"""The activations of nn.functional beyond relu / gelu (leaky_relu, elu, softplus, mish, hardtanh, relu6,
hardswish, hardsigmoid, logsigmoid, softmin, glu, prelu) and their modules, against torch on every device:
values and gradients in float32 and float64, at the kinks and for large |x|, strided inputs, the in-place
forms, a second derivative, reprs, PReLU's learnable slopes from a torch state_dict, and the errors."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, randn, to_torch, to_vt

F = vt.nn.functional
TF = torch.nn.functional

# (function, keyword arguments): the same call on both sides
CASES = [("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}), ("elu", {"alpha": 0.5}),
         ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 5.0}), ("softplus", {"beta": 0.5}), ("mish", {}),
         ("hardtanh", {}), ("hardtanh", {"min_val": -2.0, "max_val": 0.5}), ("relu6", {}), ("hardswish", {}),
         ("hardsigmoid", {}), ("logsigmoid", {}), ("softmin", {"dim": 1}), ("softmin", {"dim": 0}),
         ("glu", {}), ("glu", {"dim": 0}), ("silu", {})]
INPLACE = ["leaky_relu", "elu", "mish", "hardtanh", "relu6", "hardswish", "hardsigmoid", "silu"]
DTYPES = [torch.float32, torch.float64]


def ulps(dtype, rtol32, rtol64):
    """A tight tolerance; atol admits subnormal results, which the CPU kernels may flush to zero."""
    return dict(rtol=rtol32 if dtype == torch.float32 else rtol64, atol=4 * torch.finfo(dtype).tiny)


def case_id(case):
    name, kw = case
    return name + "".join(f"-{k}={v}" for k, v in kw.items())


def with_kinks(shape, dtype, seed=0):
    """Random values, and in the first row every kink and bound of the functions here, exactly."""
    x = randn(shape, dtype, seed=seed, scale=4.0)
    kinks = torch.tensor([-3.0, 3.0, 0.0, 6.0, -1.0, 1.0, -2.0, 0.5], dtype=dtype)
    n = min(x.numel(), kinks.numel())
    x.view(-1)[:n] = kinks[:n]
    return x


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch(device, case, dtype):
    name, kw = case
    x = with_kinks((6, 8), dtype).requires_grad_()
    # torch's float64 hardsigmoid backward multiplies by 1/6 rounded to float32 (one_sixth(1.0f / 6.0f))
    grad_tol = dict(rtol=1e-7, atol=0) if (name, dtype) == ("hardsigmoid", torch.float64) else None
    check_op(lambda v: getattr(F, name)(v, **kw), lambda t: getattr(TF, name)(t, **kw), [x], device,
             grad_tol=grad_tol)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_strided_input(device, case):
    name, kw = case
    base = with_kinks((8, 6), torch.float32, seed=3)
    vts = [to_vt(base, device).transpose(0, 1)]  # a transposed view: non-contiguous
    check_op(lambda v: getattr(F, name)(v, **kw), lambda t: getattr(TF, name)(t, **kw),
             [base.t().contiguous().requires_grad_()], device, vt_inputs=vts)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("kw", [{}, {"beta": 2.0}, {"threshold": 100.0}, {"beta": 0.5, "threshold": 1.0}], ids=str)
def test_softplus_large_and_tiny_values(device, kw, dtype):
    """Above the threshold x itself; far below it exp(beta * x) / beta, not 0; past exp's range with a high
    threshold inf and a nan gradient, as torch's."""
    x = torch.tensor([-800.0, -200.0, -100.0, -90.0, -30.0, -20.0, -1e-7, 0.0, 1e-7, 0.5, 0.99, 1.0, 1.01, 19.99,
                      20.0, 20.01, 30.0, 49.9, 50.0, 90.0, 100.0, 200.0, 800.0], dtype=dtype).requires_grad_()
    out, ref = check_op(lambda v: F.softplus(v, **kw), lambda t: TF.softplus(t, **kw), [x], device,
                        tol=ulps(dtype, 4e-6, 1e-14))
    # exp(beta * -200) / beta: kept in float64, in float32 0 or a denormal exactly where torch's is (the CPU's
    # fast exp once gave FLT_MIN for every underflow)
    assert (to_torch(out)[1].item() > 0) == (ref[1].item() > 0)
    assert (to_torch(out)[1].item() > 0) == (dtype == torch.float64 or kw.get("beta", 1.0) < 1)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_logsigmoid_large_values(device, dtype):
    x = torch.tensor([-1e4, -800.0, -200.0, -50.0, -20.0, -1e-7, 0.0, 1e-7, 20.0, 50.0, 200.0, 800.0, 1e4],
                     dtype=dtype).requires_grad_()
    out, ref = check_op(F.logsigmoid, TF.logsigmoid, [x], device,
                        tol=ulps(dtype, 4e-6, 1e-14))
    assert torch.isfinite(to_torch(out)).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_elu_small_negatives_keep_their_digits(device, dtype):
    """exp(x) - 1 loses x's digits near 0; elu matches torch's expm1 to a few ulps there."""
    x = torch.tensor([-1e-10, -1e-7, -1e-5, -1e-3, -0.1, -5.0, -50.0, -1e3], dtype=dtype).requires_grad_()
    check_op(lambda v: F.elu(v, alpha=1.5), lambda t: TF.elu(t, alpha=1.5), [x], device,
             tol=ulps(dtype, 4e-7, 1e-15))


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_writes_the_input_and_differentiates(device, name):
    x = with_kinks((4, 8), torch.float32, seed=5).requires_grad_()

    def run(fn, t):
        y = t * 1.0  # a non-leaf, which may be written in place
        out = fn(y, inplace=True)
        assert out is y
        return out

    check_op(lambda v: run(getattr(F, name), v), lambda t: run(getattr(TF, name), t), [x], device)


def test_inplace_without_autograd_and_on_a_leaf(device):
    v = to_vt(torch.tensor([-2.0, 0.5, 7.0]), device)
    assert F.relu6(v, inplace=True) is v
    assert_close(v, torch.tensor([0.0, 0.5, 6.0]))
    leaf = to_vt(torch.tensor([-2.0, 0.5]), device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.elu(leaf, inplace=True)


@pytest.mark.parametrize("name,kw", [("softplus", {"beta": 2.0}), ("logsigmoid", {}), ("elu", {"alpha": 0.7}),
                                     ("mish", {})])
def test_second_derivative(device, name, kw):
    x = randn((3, 4), torch.float64, seed=2, scale=3.0)
    xt = x.clone().requires_grad_()
    (gt,) = torch.autograd.grad(getattr(TF, name)(xt, **kw).sum(), xt, create_graph=True)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), xt)
    xv = to_vt(x, device, requires_grad=True)
    (gv,) = vt.autograd.grad(getattr(F, name)(xv, **kw).sum(), xv, create_graph=True)
    (ggv,) = vt.autograd.grad((gv * gv).sum(), xv)
    assert_close(gv, gt.detach())
    assert_close(ggv, ggt, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape,channels", [((2, 3, 4, 5), 3), ((2, 3, 4, 5), 1), ((4, 3), 3), ((5,), 1), ((), 1),
                                            ((2, 3, 7), 3)], ids=str)
def test_prelu(device, shape, channels):
    x = with_kinks(shape, torch.float64, seed=1) if shape else torch.tensor(-1.5, dtype=torch.float64)
    w = randn((channels,), torch.float64, seed=2)
    check_op(F.prelu, TF.prelu, [x.requires_grad_(), w.requires_grad_()], device)


def test_prelu_errors():
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size. Found parameter "
                                           "numbers = 4 and channel size = 3"):
        F.prelu(vt.randn(2, 3, 4), vt.ones(4))
    with pytest.raises(RuntimeError, match="Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2"):
        F.prelu(vt.randn(2, 3), vt.ones(3, 1))
    with pytest.raises(RuntimeError, match="Not allow zero-dim input tensor"):
        F.prelu(vt.tensor(1.0), vt.ones(3))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_prelu_module_loads_torch_state(device, dtype):
    torch.manual_seed(0)
    tm = torch.nn.PReLU(3, init=0.1).to(dtype)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor([0.1, -0.3, 0.7]))
    vm = vt.nn.PReLU(3, init=0.1, dtype=vt.float64 if dtype == torch.float64 else None)
    assert_close(vm.weight, torch.full((3,), 0.1, dtype=dtype))  # the init value
    vm.load_state_dict({k: to_vt(v, device) for k, v in tm.state_dict().items()})
    vm = vm.to(device)
    assert [n for n, _ in vm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    x = with_kinks((2, 3, 4), dtype, seed=4).requires_grad_()
    xv = to_vt(x.detach(), device, requires_grad=True)
    out_t, out_v = tm(x), vm(xv)
    assert_close(out_v, out_t.detach())
    w = randn(tuple(out_t.shape), dtype, seed=9)
    (out_t * w).sum().backward()
    (out_v * to_vt(w, device)).sum().backward()
    assert_close(xv.grad, x.grad)
    assert_close(vm.weight.grad, tm.weight.grad)
    assert repr(vm) == repr(tm)


MODULES = [("LeakyReLU", (), {}), ("LeakyReLU", (0.3,), {"inplace": True}), ("ELU", (0.5,), {}),
           ("Softplus", (), {"beta": 2.0, "threshold": 10.0}), ("Mish", (), {}), ("Hardtanh", (-0.5, 2.0), {}),
           ("ReLU6", (), {}), ("Hardswish", (), {}), ("Hardsigmoid", (), {}), ("LogSigmoid", (), {}),
           ("Softmin", (), {"dim": 1}), ("GLU", (), {"dim": 0}), ("PReLU", (), {}), ("ELU", (), {"inplace": True}),
           ("Mish", (), {"inplace": True}), ("Hardtanh", (-0.5, 2.0), {"inplace": True}), ("ReLU6", (True,), {}),
           ("Hardswish", (), {"inplace": True}), ("Hardsigmoid", (True,), {})]


@pytest.mark.parametrize("name,args,kw", MODULES, ids=lambda v: v if isinstance(v, str) else "")
def test_modules_match_torch(device, name, args, kw):
    tm, vm = getattr(torch.nn, name)(*args, **kw), getattr(vt.nn, name)(*args, **kw).to(device)
    assert repr(vm) == repr(tm)
    x = with_kinks((4, 6), torch.float32, seed=6).requires_grad_()
    copy = (lambda m, t: m(t * 1.0)) if getattr(tm, "inplace", False) else (lambda m, t: m(t))
    check_op(lambda v: copy(vm, v), lambda t: copy(tm, t), [x], device)


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "softplus", "mish", "hardswish", "hardsigmoid", "logsigmoid",
                                  "glu", "prelu"])
def test_integer_input_is_refused(name):
    args = (vt.tensor([0.25]),) if name == "prelu" else ()
    with pytest.raises(TypeError, match=f"{name}: expected a floating tensor, got int64"):
        getattr(F, name)(vt.tensor([1, 2]), *args)


@pytest.mark.parametrize("name", ["hardtanh", "relu6"])
def test_integer_input_keeps_its_dtype(device, name):
    x = torch.tensor([-3, 0, 1, 4, 8])
    assert_close(getattr(F, name)(to_vt(x, device)), getattr(TF, name)(x))


def test_errors():
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(vt.randn(3), 2.0, 1.0)
    with pytest.raises(AssertionError, match=r"max_val \(1.0\) must be greater than min_val \(1.0\)"):
        vt.nn.Hardtanh(1.0, 1.0)
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 5"):
        F.glu(vt.randn(3, 5))
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        F.glu(vt.tensor(1.0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.glu(vt.randn(3, 4), dim=2)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        out = F.softmin(vt.tensor([[1.0, 2.0]]))
    assert_close(out, TF.softmin(torch.tensor([[1.0, 2.0]]), dim=1))
    assert_close(F.softmin(vt.tensor([1.0, 2.0]), dim=0, dtype=vt.float64),
                 TF.softmin(torch.tensor([1.0, 2.0]), dim=0, dtype=torch.float64))
