"""log1p, expm1 and logaddexp (composed of log and exp, Note [log1p and expm1 from log and exp]) against torch on
every device: values near 0 where the direct forms cancel, special values, gradients, broadcasting, dtypes,
strided inputs and the error paths."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt, vt_dtype

SPECIAL = [0.0, -0.0, 1e-30, -1e-30, 1e-10, -1e-10, 1e-5, -0.5, -1.0, -2.0, 1.0, 30.0, 100.0, -100.0, 1e4,
           math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("name", ["log1p", "expm1"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_values_and_gradients(device, name, dtype):
    x = rand((5, 7), dtype, lo=-0.9, hi=3.0).requires_grad_()
    check_op(getattr(vt, name), getattr(torch, name), [x], device)
    check_op(lambda v: getattr(v.t(), name)(), lambda t: getattr(t.t(), name)(), [x], device)  # a strided view


@pytest.mark.parametrize("name", ["log1p", "expm1"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_small_and_special_values(device, name, dtype):
    x = torch.tensor(SPECIAL, dtype=dtype)
    # relative accuracy near 0, where log(1 + x) and exp(x) - 1 lose every digit
    tiny = torch.logspace(-30, -1, 60, dtype=dtype)
    x = torch.cat([x, tiny, -tiny])
    tol = dict(rtol=1e-6, atol=0) if dtype == torch.float32 else dict(rtol=1e-14, atol=0)
    assert_close(getattr(vt, name)(to_vt(x, device)), getattr(torch, name)(x), **tol)


@pytest.mark.parametrize("name", ["log1p", "expm1"])
def test_integer_inputs_give_float32(device, name):
    for dtype in (torch.int64, torch.int32, torch.bool):
        x = rand((6,), dtype, lo=0, hi=4)
        assert_close(getattr(vt, name)(to_vt(x, device)), getattr(torch, name)(x))


@pytest.mark.parametrize("name", ["log1p", "expm1"])
def test_edge_shapes_and_inplace(device, name):
    for shape in [(0,), (1,), (), (3, 0, 2)]:
        x = rand(shape, lo=-0.5, hi=2.0)
        assert_close(getattr(vt, name)(to_vt(x, device)), getattr(torch, name)(x))
    x = rand((4,), lo=-0.5, hi=2.0)
    v = to_vt(x, device)
    assert getattr(v, name + "_")() is v
    assert_close(v, getattr(torch, name)(x))


def test_double_backward(device):
    x = rand((5,), torch.float64, lo=-0.5, hi=2.0).requires_grad_()
    for name in ("log1p", "expm1"):
        v = to_vt(x, device, requires_grad=True)
        (g,) = vt.autograd.grad(getattr(vt, name)(v).sum(), [v], create_graph=True)
        (gg,) = vt.autograd.grad(g.sum(), [v])
        (tg,) = torch.autograd.grad(getattr(torch, name)(x).sum(), [x], create_graph=True)
        (tgg,) = torch.autograd.grad(tg.sum(), [x])
        assert_close(g, tg)
        assert_close(gg, tgg)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_logaddexp(device, dtype):
    a = randn((4, 5), dtype, scale=5).requires_grad_()
    b = randn((4, 5), dtype, seed=1, scale=5).requires_grad_()
    check_op(vt.logaddexp, torch.logaddexp, [a, b], device)
    check_op(lambda x, y: x.t().logaddexp(y.t()), lambda x, y: x.t().logaddexp(y.t()), [a, b], device)
    row = randn((5,), dtype, seed=2).requires_grad_()  # broadcast: the row's gradient is summed
    check_op(vt.logaddexp, torch.logaddexp, [a, row], device)
    # far apart (exp would overflow or underflow), equal, and infinite
    x = torch.tensor([1000.0, -1000.0, 3.0, math.inf, -math.inf, math.inf, 0.0, math.nan], dtype=dtype)
    y = torch.tensor([999.0, -1001.0, 3.0, math.inf, -math.inf, -math.inf, -math.inf, 1.0], dtype=dtype)
    assert_close(vt.logaddexp(to_vt(x, device), to_vt(y, device)), torch.logaddexp(x, y))
    # equal inputs: the gradient is split in halves, as torch's
    e = randn((3,), dtype).requires_grad_()
    check_op(lambda v: vt.logaddexp(v, v * 1), lambda t: torch.logaddexp(t, t * 1), [e], device)


def test_logaddexp_mixed_dtypes_and_errors(device):
    a, b = randn((3,)), randn((3,), torch.float64, seed=1)
    assert_close(vt.logaddexp(to_vt(a, device), to_vt(b, device)), torch.logaddexp(a, b))
    i = rand((3,), torch.int64)
    assert_close(vt.logaddexp(to_vt(i, device), to_vt(a, device)), torch.logaddexp(i, a))
    with pytest.raises(TypeError, match="logaddexp.*floating point"):
        vt.logaddexp(to_vt(i, device), to_vt(i, device))
    with pytest.raises(TypeError, match="must be a Tensor, not float"):
        vt.logaddexp(to_vt(a, device), 2.0)
    with pytest.raises(RuntimeError, match=r"logaddexp\(\): the shapes \[3\], \[4\] cannot be broadcast"):
        vt.logaddexp(to_vt(randn((3,)), device), to_vt(randn((4,)), device))
    with pytest.raises(TypeError, match="log1p.*must be a Tensor"):
        vt.log1p([1.0, 2.0])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_rounds_once(device, dtype):
    # computed in float32 and rounded once, as torch: equal to torch's results
    x = rand((200,), dtype, lo=-0.9, hi=6.0)
    y = rand((200,), dtype, lo=-5.0, hi=5.0, seed=1)
    for name in ("log1p", "expm1"):
        got = getattr(vt, name)(to_vt(x, device))
        assert_close(got, getattr(torch, name)(x), rtol=0, atol=0)
    assert_close(vt.logaddexp(to_vt(x, device), to_vt(y, device)), torch.logaddexp(x, y), rtol=0, atol=0)
    v = to_vt(x.float(), device, requires_grad=True)
    vt.log1p(v.to(vt_dtype(dtype))).float().sum().backward()  # the gradient flows through the casts
    assert_close(v.grad, (1 / (1 + x.float())).to(dtype).float(), rtol=1e-2, atol=1e-2)
