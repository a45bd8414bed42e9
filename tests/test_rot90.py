"""rot90 (flips and a transpose, in _rearrange.py) against torch on every device: every k (negative and past a
full turn), dim pairs in both orders, gradients, dtypes, strided inputs, empty and size-1 dims, and the error
paths."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4, -1, -3, 6])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (0, 2), (-1, -3)])
def test_rot90(device, k, dims):
    x = randn((2, 3, 4)).requires_grad_()
    check_op(lambda v: vt.rot90(v, k, dims), lambda t: torch.rot90(t, k, dims), [x], device)
    check_op(lambda v: v.transpose(0, 2).rot90(k, list(dims)), lambda t: t.transpose(0, 2).rot90(k, list(dims)), [x],
             device)


def test_rot90_default_dtypes_and_edges(device):
    for dtype in (torch.int64, torch.bool, torch.float64):
        x = rand((3, 5), dtype)
        assert_close(vt.rot90(to_vt(x, device)), torch.rot90(x))
    for shape in [(0, 3), (1, 1), (1, 4)]:
        x = randn(shape)
        assert_close(vt.rot90(to_vt(x, device), 1), torch.rot90(x, 1))
    x = randn((2, 2))
    v = to_vt(x, device)
    r = vt.rot90(v, 0)
    r.mul_(0)  # k = 0 is a copy, as torch's
    assert_close(v, x)


def test_rot90_errors(device):
    x = to_vt(randn((2, 3)), device)
    with pytest.raises(RuntimeError, match="expected rotation dims to be different, but got dim0 = 0 and dim1 = 0"):
        vt.rot90(x, 1, [0, 0])
    with pytest.raises(RuntimeError, match="expected rotation dims to be different, but got dim0 = 1 and dim1 = -1"):
        vt.rot90(x, 1, [1, -1])
    with pytest.raises(RuntimeError, match="expected total dims >= 2, but got total dims = 1"):
        vt.rot90(to_vt(randn((3,)), device), 1, [0, 0])
    with pytest.raises(RuntimeError, match="expected total rotation dims == 2, but got dims = 3"):
        vt.rot90(x, 1, [0, 1, 2])
    with pytest.raises(IndexError, match="Dimension out of range"):
        vt.rot90(x, 1, [0, 2])
