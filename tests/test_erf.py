"""erf (from the exact GELU kernel and a series near 0, Note [erf from gelu]) against torch on every device:
values over the whole range and near 0, special values, gradients (and the second derivative), dtypes, strided
inputs and the error paths."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_erf_values_and_gradients(device, dtype):
    x = randn((6, 5), dtype, scale=2).requires_grad_()
    check_op(vt.erf, torch.erf, [x], device)
    check_op(lambda v: v.t().erf(), lambda t: t.t().erf(), [x], device)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_erf_relative_accuracy(device, dtype):
    grid = torch.linspace(-7, 7, 2001, dtype=dtype)
    tiny = torch.logspace(-30, 0, 121, dtype=dtype)
    special = torch.tensor([0.0, -0.0, 0.25, -0.25, 0.2499, 0.2501, 5.9, 6.0, 6.1, 30.0,
                            math.inf, -math.inf, math.nan], dtype=dtype)
    x = torch.cat([grid, tiny, -tiny, special])
    tol = dict(rtol=1e-6, atol=0) if dtype == torch.float32 else dict(rtol=2e-15, atol=0)
    assert_close(vt.erf(to_vt(x, device)), torch.erf(x), **tol)


def test_erf_integers_shapes_and_inplace(device):
    for dtype in (torch.int64, torch.bool):
        x = rand((5,), dtype, lo=-3, hi=3)
        assert_close(vt.erf(to_vt(x, device)), torch.erf(x))
    for shape in [(0,), (), (1, 1), (2, 0)]:
        x = randn(shape)
        assert_close(vt.erf(to_vt(x, device)), torch.erf(x))
    x = randn((4,))
    v = to_vt(x, device)
    assert v.erf_() is v
    assert_close(v, torch.erf(x))


def test_erf_double_backward(device):
    x = randn((6,), torch.float64).requires_grad_()
    v = to_vt(x, device, requires_grad=True)
    (g,) = vt.autograd.grad(vt.erf(v).sum(), [v], create_graph=True)
    (gg,) = vt.autograd.grad(g.sum(), [v])
    (tg,) = torch.autograd.grad(torch.erf(x).sum(), [x], create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), [x])
    assert_close(gg, tgg)


def test_erf_errors():
    with pytest.raises(TypeError, match=r"erf\(\): argument 0 must be a Tensor, not list"):
        vt.erf([0.5])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_erf_half_precision(device, dtype):
    x = randn((300,), dtype, scale=2)
    assert_close(vt.erf(to_vt(x, device)), torch.erf(x), rtol=0, atol=float(torch.finfo(dtype).eps))
