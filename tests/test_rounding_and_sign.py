"""trunc, frac, sign and heaviside against torch on every device: values (halves, negative zero, infinities,
nan), gradients (0 for the steps, 1 for frac), integer and bool dtypes, strided inputs and the error paths."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_torch, to_vt

SPECIAL = [-2.5, -1.5, -0.5, -0.0, 0.0, 0.5, 1.5, 2.5, 1e20, -1e20, 7.0, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("name", ["trunc", "frac", "sign"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_values_and_gradients(device, name, dtype):
    x = randn((4, 5), dtype, scale=4).requires_grad_()
    check_op(getattr(vt, name), getattr(torch, name), [x], device)
    check_op(lambda v: getattr(v.t(), name)(), lambda t: getattr(t.t(), name)(), [x], device)
    s = torch.tensor(SPECIAL, dtype=dtype)
    got, expected = getattr(vt, name)(to_vt(s, device)), getattr(torch, name)(s)
    assert_close(got, expected)
    if name != "frac":  # trunc(-0.5) is -0, sign(-0.0) is +0
        assert torch.equal(torch.signbit(to_torch(got)), torch.signbit(expected))


def test_integer_and_bool_dtypes(device):
    i = rand((6,), torch.int64, lo=-4, hi=4)
    b = rand((6,), torch.bool)
    assert_close(vt.trunc(to_vt(i, device)), torch.trunc(i))
    assert_close(vt.sign(to_vt(i, device)), torch.sign(i))
    assert_close(vt.sign(to_vt(b, device)), torch.sign(b))
    assert_close(vt.fix(to_vt(i, device)), torch.fix(i))
    with pytest.raises(TypeError, match=r"frac\(\): expected a floating point tensor, got vibetensor.int64"):
        vt.frac(to_vt(i, device))
    with pytest.raises(TypeError, match=r"trunc\(\): expected a floating point or integer tensor, got vibetensor.bool"):
        vt.trunc(to_vt(b, device))
    with pytest.raises(TypeError, match=r"sign\(\): argument 'input' must be Tensor, not float"):
        vt.sign(1.5)


def test_edge_shapes_and_inplace(device):
    for shape in [(0,), (), (1, 1)]:
        x = randn(shape, scale=3)
        for name in ("trunc", "frac", "sign", "sgn"):
            assert_close(getattr(vt, name)(to_vt(x, device)), getattr(torch, name)(x))
    for name in ("trunc", "frac", "sign", "fix"):
        x = randn((5,), scale=3)
        v = to_vt(x, device)
        assert getattr(v, name + "_")() is v
        assert_close(v, getattr(torch, name)(x))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_heaviside(device, dtype):
    x = torch.tensor([-2, -1, 0, 0, 1, 3], dtype=dtype)
    values = torch.tensor([5, 5, 5, 7, 5, 5], dtype=dtype)
    assert_close(vt.heaviside(to_vt(x, device), to_vt(values, device)), torch.heaviside(x, values))
    one = torch.tensor(9, dtype=dtype)  # values broadcast
    assert_close(vt.heaviside(to_vt(x, device), to_vt(one, device)), torch.heaviside(x, one))
    m = randn((3, 4), dtype).t()
    assert_close(to_vt(m.t().contiguous(), device).t().heaviside(to_vt(one, device)), m.heaviside(one))
    if dtype.is_floating_point:
        n = torch.tensor([math.nan, -math.inf, math.inf, -0.0], dtype=dtype)
        assert_close(vt.heaviside(to_vt(n, device), to_vt(one, device)), torch.heaviside(n, one))


def test_heaviside_errors(device):
    x = to_vt(randn((3,)), device)
    with pytest.raises(RuntimeError, match="heaviside is not yet implemented for tensors with different dtypes"):
        vt.heaviside(x, to_vt(torch.tensor(1), device))
    with pytest.raises(TypeError, match=r"heaviside\(\): argument 'values' must be Tensor, not float"):
        vt.heaviside(x, 0.5)
    b = torch.tensor([True, False])
    assert_close(vt.heaviside(to_vt(b, device), to_vt(torch.tensor(True), device)),
                 torch.heaviside(b, torch.tensor(True)))


def test_abs_of_negative_zero_is_positive_zero(device):
    """abs kept the sign of -0 (x < 0 is false for it); torch and fabs give +0, whose reciprocal is +inf."""
    x = to_vt(torch.tensor([-0.0, 0.0, -1.5, float("nan")]), device)
    got = to_torch(vt.abs(x))
    assert torch.equal(torch.signbit(got[:3]), torch.tensor([False, False, False]))
    assert torch.equal(1 / got[:2], torch.tensor([float("inf")] * 2)) and torch.isnan(got[3])
