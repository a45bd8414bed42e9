"""div(rounding_mode='trunc' | 'floor'), floor_divide / //, remainder / % against torch on every device:
integers and floats, signs, broadcasting, Python numbers on either side, in-place forms, gradients (zero for
a rounded quotient, remainder's), and the error paths (integer division by zero, bool, a bad mode)."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, to_vt

DTYPES = [torch.float32, torch.float64, torch.int32, torch.int64]


def operands(dtype, seed=0):
    a = rand((4, 6), dtype, lo=-20, hi=20, seed=seed)
    b = rand((6,), dtype, lo=1, hi=7, seed=seed + 1) * torch.tensor([1, -1, 1, -1, 1, -1], dtype=dtype)
    return a, b


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_modes(device, dtype, mode):
    a, b = operands(dtype)
    check_op(lambda x, y: vt.div(x, y, rounding_mode=mode), lambda x, y: torch.div(x, y, rounding_mode=mode), [a, b],
             device)
    check_op(lambda x: x.div(3, rounding_mode=mode), lambda x: x.div(3, rounding_mode=mode), [a], device)


@pytest.mark.parametrize("dtype", DTYPES)
def test_floor_divide_and_remainder_operators(device, dtype):
    a, b = operands(dtype, seed=2)
    check_op(lambda x, y: x // y, lambda x, y: x // y, [a, b], device)
    check_op(lambda x, y: x % y, lambda x, y: x % y, [a, b], device)
    check_op(lambda x: 7 // x, lambda x: 7 // x, [b], device)
    check_op(lambda x: -7 % x, lambda x: -7 % x, [b], device)
    check_op(lambda x: x % -3, lambda x: x % -3, [a], device)
    check_op(lambda x, y: vt.floor_divide(x, y), lambda x, y: torch.floor_divide(x, y), [a, b], device)
    check_op(lambda x, y: vt.remainder(x, y), lambda x, y: torch.remainder(x, y), [a, b], device)


def test_float_edge_cases(device):
    a = torch.tensor([5.0, -5.0, 0.0, -0.0, 1.0, -1.0, 7.5, float("inf"), 3.0])
    b = torch.tensor([0.1, 0.1, 3.0, 3.0, 0.0, 0.0, -2.0, 2.0, float("inf")])
    va, vb = to_vt(a, device), to_vt(b, device)
    assert_close(va // vb, a // b)
    assert_close(va % vb, a % b)
    assert_close(vt.div(va, vb, rounding_mode="trunc"), torch.div(a, b, rounding_mode="trunc"))
    # the sign of a zero quotient
    assert str((to_vt(torch.tensor([-0.0]), device) // 3).tolist()) == str((torch.tensor([-0.0]) // 3).tolist())


def test_in_place_forms():
    a, b = operands(torch.int64)
    x = to_vt(a)
    same = x
    x //= to_vt(b)
    assert x is same
    assert_close(x, a // b)
    x %= 5
    assert_close(x, (a // b) % 5)
    y = to_vt(a.float())
    assert y.floor_divide_(2.5) is y and y.remainder_(3) is y
    assert_close(y, torch.remainder(torch.floor_divide(a.float(), 2.5), 3))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type"):
        to_vt(a).__ifloordiv__(2.5)


def test_gradients():
    a = rand((3, 4), torch.float64, lo=-9, hi=9).requires_grad_()
    b = rand((4,), torch.float64, lo=1, hi=3, seed=1).requires_grad_()
    check_op(lambda x, y: x % y, lambda x, y: x % y, [a, b])
    check_op(lambda x, y: vt.div(x, y, rounding_mode="floor"), lambda x, y: torch.div(x, y, rounding_mode="floor"),
             [a, b])  # zeros
    check_op(lambda x, y: vt.div(x, y, rounding_mode="trunc"), lambda x, y: torch.div(x, y, rounding_mode="trunc"),
             [a, b])


def test_errors():
    with pytest.raises(RuntimeError, match=r"div: integer division by zero \(ZeroDivisionError\)"):
        vt.tensor([1, 2]) // vt.tensor([0, 1])
    with pytest.raises(RuntimeError, match=r"remainder: integer division by zero"):
        vt.tensor([1, 2]) % 0
    with pytest.raises(TypeError, match="remainder: not implemented for bool tensors"):
        vt.tensor([True]) % vt.tensor([True])
    with pytest.raises(TypeError, match="div: not implemented for bool tensors"):
        vt.tensor([True]) // vt.tensor([True])
    with pytest.raises(RuntimeError, match="div: expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                                           "found 'round'"):
        vt.div(vt.randn(2), 2, rounding_mode="round")
