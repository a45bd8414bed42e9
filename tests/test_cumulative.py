"""cumprod, cummax, cummin and logcumsumexp (scans of ops, Note [Scans from ops]) against torch on every device:
values and gradients (cumprod through zeros and negatives, where exp(cumsum(log)) fails), ties and nan for the
running extremes, values far apart for logcumsumexp, dims, dtypes, strided inputs, empty, 0-D and size-1 dims,
and the error paths."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt

FLOATS = [torch.float32, torch.float64]
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-6), torch.float64: {}}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod(device, dtype, dim):
    x = rand((5, 9), dtype, lo=-2, hi=2).requires_grad_()
    check_op(lambda v: vt.cumprod(v, dim), lambda t: torch.cumprod(t, dim), [x], device, tol=TOL[dtype])
    check_op(lambda v: v.t().cumprod(dim), lambda t: t.t().cumprod(dim), [x], device, tol=TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
def test_cumprod_through_zeros(device, dtype):
    # one zero, two zeros, a zero first and last, negatives: the gradient is the product rule at every element
    x = torch.tensor([[1.5, 0.0, 2.0, -3.0, 0.5], [0.0, 2.0, 0.0, 4.0, -1.0], [2.0, -1.0, 3.0, 0.5, 0.0],
                      [-2.0, 0.0, 0.0, 0.0, 3.0]], dtype=dtype).requires_grad_()
    check_op(lambda v: vt.cumprod(v, 1), lambda t: torch.cumprod(t, 1), [x], device)
    check_op(lambda v: vt.cumprod(v, 0), lambda t: torch.cumprod(t, 0), [x], device)


def test_cumprod_dtypes_shapes_and_inplace(device):
    i = rand((3, 4), torch.int64, lo=-3, hi=3)
    assert_close(vt.cumprod(to_vt(i, device), 1), torch.cumprod(i, 1))
    b = rand((6,), torch.bool)
    assert_close(vt.cumprod(to_vt(b, device), 0), torch.cumprod(b, 0))  # int64, as torch
    assert_close(vt.cumprod(to_vt(i, device), 0, dtype=vt.float64), torch.cumprod(i, 0, dtype=torch.float64))
    for shape, dim in [((0,), 0), ((), 0), ((1, 3), 0), ((2, 0), 1), ((3, 1), 1), ((17,), 0)]:
        x = randn(shape)
        assert_close(vt.cumprod(to_vt(x, device), dim), torch.cumprod(x, dim), rtol=1e-5, atol=1e-6)
    x = randn((3, 4))
    v = to_vt(x, device)
    assert v.cumprod_(1) is v
    assert_close(v, torch.cumprod(x, 1), rtol=1e-5, atol=1e-6)
    with pytest.raises(IndexError, match="Dimension out of range"):
        vt.cumprod(to_vt(x, device), 2)
    with pytest.raises(TypeError, match=r"cumprod\(\): argument 'input' must be Tensor, not list"):
        vt.cumprod([1.0], 0)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_cummin(device, name, dtype, dim):
    x = rand((6, 11), dtype, lo=-3, hi=3)  # integers: many ties, the latest index wins
    if dtype.is_floating_point:
        x = x.round().requires_grad_()  # ties in floats too
    check_op(lambda v: getattr(vt, name)(v, dim), lambda t: tuple(getattr(torch, name)(t, dim)), [x], device)
    check_op(lambda v: tuple(getattr(v.t(), name)(dim)), lambda t: tuple(getattr(t.t(), name)(dim)), [x], device)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_nan_bool_and_shapes(device, name):
    x = torch.tensor([1.0, math.nan, 3.0, math.nan, 2.0, -math.inf, math.inf])
    got, expected = getattr(vt, name)(to_vt(x, device), 0), getattr(torch, name)(x, 0)
    assert_close(got.values, expected.values)
    assert_close(got.indices, expected.indices)
    b = rand((9,), torch.bool)
    got, expected = getattr(vt, name)(to_vt(b, device), 0), getattr(torch, name)(b, 0)
    assert_close(got.values, expected.values)
    assert_close(got.indices, expected.indices)
    for shape, dim in [((0, 3), 0), ((), 0), ((1,), 0), ((3, 1), 1)]:
        x = randn(shape)
        got, expected = getattr(vt, name)(to_vt(x, device), dim), getattr(torch, name)(x, dim)
        assert_close(got[0], expected[0])
        assert_close(got[1], expected[1])
    with pytest.raises(IndexError, match="Dimension out of range"):
        getattr(vt, name)(to_vt(randn((2, 2)), device), 3)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logcumsumexp(device, dtype, dim):
    x = randn((5, 10), dtype, scale=3).requires_grad_()
    check_op(lambda v: vt.logcumsumexp(v, dim), lambda t: torch.logcumsumexp(t, dim), [x], device, tol=TOL[dtype])
    check_op(lambda v: v.t().logcumsumexp(dim), lambda t: t.t().logcumsumexp(dim), [x], device, tol=TOL[dtype])


def test_logcumsumexp_far_apart_and_infinite(device):
    # log(cumsum(exp(x))) overflows at 1000 and underflows at -1000; a global shift would lose the small head
    x = torch.tensor([-1000.0, -999.0, 0.0, 1000.0, 999.0, -math.inf, math.inf, 3.0], dtype=torch.float64)
    assert_close(vt.logcumsumexp(to_vt(x, device), 0), torch.logcumsumexp(x, 0))
    # float64: torch's float32 gradient here is 2.5e-5 off the float64 one, vibetensor's 1e-7
    y = torch.tensor([-800.0, -790.0, 5.0], dtype=torch.float64).requires_grad_()
    check_op(lambda v: vt.logcumsumexp(v, 0), lambda t: torch.logcumsumexp(t, 0), [y], device)
    for shape in [(0,), (), (1, 1)]:
        z = randn(shape)
        assert_close(vt.logcumsumexp(to_vt(z, device), 0), torch.logcumsumexp(z, 0))
    with pytest.raises(TypeError, match=r"logcumsumexp\(\): expected a floating point tensor, got vibetensor.int64"):
        vt.logcumsumexp(to_vt(rand((3,), torch.int64), device), 0)
