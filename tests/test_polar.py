"""atan2 and hypot (composed of ops, Note [atan from a rational fit]) against torch on every device: values in
every quadrant, signed zeros and infinities, accuracy, gradients, broadcasting, dtypes, strided inputs and the
error paths."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_torch, to_vt

SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e-30, -1e30, 2.4142, 0.66, 0.6601, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("name", ["atan2", "hypot"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_values_and_gradients(device, name, dtype):
    y = randn((4, 6), dtype, scale=3).requires_grad_()
    x = randn((4, 6), dtype, seed=1, scale=3).requires_grad_()
    check_op(getattr(vt, name), getattr(torch, name), [y, x], device)
    check_op(lambda a, b: getattr(a.t(), name)(b.t()), lambda a, b: getattr(a.t(), name)(b.t()), [y, x], device)
    column = randn((4, 1), dtype, seed=2).requires_grad_()  # broadcast: its gradient is summed over the row
    check_op(getattr(vt, name), getattr(torch, name), [y, column], device)
    check_op(getattr(vt, name), getattr(torch, name), [column, x], device)


@pytest.mark.parametrize("name", ["atan2", "hypot"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_special_values_and_accuracy(device, name, dtype):
    s = torch.tensor(SPECIAL, dtype=dtype)
    y = torch.cat([s.repeat_interleave(len(SPECIAL)), randn((500,), torch.float64, scale=10).to(dtype)
                   * torch.logspace(-6, 6, 500, dtype=dtype)])
    x = torch.cat([s.repeat(len(SPECIAL)), randn((500,), dtype, seed=3)])
    got = getattr(vt, name)(to_vt(y, device), to_vt(x, device))
    expected = getattr(torch, name)(y, x)
    tol = dict(rtol=3e-7, atol=0) if dtype == torch.float32 else dict(rtol=5e-16, atol=0)
    assert_close(got, expected, **tol)
    same_sign = torch.signbit(to_torch(got)) == torch.signbit(expected)
    assert bool((same_sign | expected.isnan()).all()), "signed zeros and signs differ"


def test_gradients_at_the_origin(device):
    # atan2: torch's gradient is 0 there (1 / (x^2 + y^2) masked); hypot: nan (0 / 0), as torch's
    for name in ("atan2", "hypot"):
        y = torch.zeros(2).requires_grad_()
        x = torch.tensor([0.0, 1.0]).requires_grad_()
        check_op(getattr(vt, name), getattr(torch, name), [y, x], device)


def test_dtypes_and_inplace(device):
    i, f = rand((5,), torch.int64, lo=-3, hi=3), randn((5,))
    d = randn((5,), torch.float64, seed=1)
    assert_close(vt.atan2(to_vt(i, device), to_vt(i, device)), torch.atan2(i, i))  # integers: float32
    for name in ("atan2", "hypot"):
        assert_close(getattr(vt, name)(to_vt(i, device), to_vt(f, device)), getattr(torch, name)(i, f))
        assert_close(getattr(vt, name)(to_vt(f, device), to_vt(d, device)), getattr(torch, name)(f, d))
        v = to_vt(f, device)
        assert getattr(v, name + "_")(to_vt(d.float(), device)) is v
        assert_close(v, getattr(torch, name)(f, d.float()))
    for shape in [(0,), (), (1, 3)]:
        a, b = randn(shape), randn(shape, seed=1)
        assert_close(vt.atan2(to_vt(a, device), to_vt(b, device)), torch.atan2(a, b))
        assert_close(vt.hypot(to_vt(a, device), to_vt(b, device)), torch.hypot(a, b))


def test_errors(device):
    a, i = to_vt(randn((3,)), device), to_vt(rand((3,), torch.int64), device)
    with pytest.raises(TypeError, match=r"hypot\(\): expected floating point tensors, got vibetensor.int64"):
        vt.hypot(i, i)
    for name in ("atan2", "hypot"):
        with pytest.raises(TypeError, match=name + r"\(\): argument 1 must be a Tensor, not float"):
            getattr(vt, name)(a, 2.0)
        with pytest.raises(RuntimeError, match=name + r"\(\): the shapes \[3\], \[2\] cannot be broadcast"):
            getattr(vt, name)(a, to_vt(randn((2,)), device))


@pytest.mark.parametrize("name", ["atan2", "hypot"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision(device, name, dtype):
    y, x = randn((300,), dtype, scale=3), randn((300,), dtype, seed=1, scale=3)
    assert_close(getattr(vt, name)(to_vt(y, device), to_vt(x, device)), getattr(torch, name)(y, x), rtol=0, atol=0)
