"""flip, roll and repeat_interleave (composed of index_select, narrow and cat) against torch on every device:
values, gradients, strided inputs and the error paths."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, randn, to_vt


@pytest.mark.parametrize("dims", [0, [1], [0, 2], (-1, 0), [0, 1, 2]])
def test_flip(device, dims):
    x = randn((3, 4, 5)).requires_grad_()
    check_op(lambda v: vt.flip(v, dims), lambda t: torch.flip(t, [dims] if isinstance(dims, int) else dims), [x], device)


def test_flip_methods(device):
    x = randn((3, 4)).requires_grad_()
    check_op(lambda v: v.flip(0, 1), lambda t: t.flip(0, 1), [x], device)
    check_op(lambda v: v.fliplr(), lambda t: t.fliplr(), [x], device)
    check_op(lambda v: vt.flipud(v.t()), lambda t: torch.flipud(t.t()), [x], device)
    with pytest.raises(RuntimeError, match="flip: dims"):
        vt.flip(to_vt(x), [0, -2])


@pytest.mark.parametrize("shifts,dims", [(1, 0), (-2, 1), ((1, 3), (0, 1)), (7, None), ((2, -1), (1, 0)), (0, 1)])
def test_roll(device, shifts, dims):
    x = randn((3, 4)).requires_grad_()
    check_op(lambda v: vt.roll(v, shifts, dims), lambda t: torch.roll(t, shifts, dims), [x], device)
    check_op(lambda v: v.t().roll(shifts, dims), lambda t: t.t().roll(shifts, dims), [x], device)


def test_roll_errors():
    with pytest.raises(RuntimeError, match="shifts and dimensions must align"):
        vt.roll(vt.randn(2, 2), (1, 2), 0)


@pytest.mark.parametrize("repeats,dim", [(2, None), (3, 0), (2, 1), (1, -1)])
def test_repeat_interleave_int(device, repeats, dim):
    x = randn((3, 4)).requires_grad_()
    check_op(lambda v: vt.repeat_interleave(v, repeats, dim), lambda t: torch.repeat_interleave(t, repeats, dim), [x],
             device)
    check_op(lambda v: v.repeat_interleave(repeats, dim=dim), lambda t: t.repeat_interleave(repeats, dim=dim), [x],
             device)


def test_repeat_interleave_tensor_repeats(device):
    x = randn((3, 4)).requires_grad_()
    reps = torch.tensor([2, 0, 3])
    check_op(lambda v: vt.repeat_interleave(v, to_vt(reps, device), 0), lambda t: torch.repeat_interleave(t, reps, 0),
             [x], device)
    assert_close(vt.repeat_interleave(to_vt(reps, device)), torch.repeat_interleave(reps))
    assert_close(vt.repeat_interleave(to_vt(torch.tensor(3.0), device), 2), torch.repeat_interleave(torch.tensor(3.0), 2))
    with pytest.raises(RuntimeError, match=r"repeats must have the same size as input along dim, but got "
                                           r"repeats.size\(0\) = 2 and input.size\(0\) = 3"):
        vt.repeat_interleave(to_vt(x), vt.tensor([1, 2]), 0)
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        vt.repeat_interleave(to_vt(x), -1, 0)
