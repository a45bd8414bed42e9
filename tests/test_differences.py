"""diff against torch on every device: orders n (0, beyond the length), dims, prepend and append (and their
shape checks), gradients through all three, bool (!=), integer and mixed dtypes, strided inputs and the error
paths."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_diff(device, n, dim, dtype):
    x = randn((4, 5), dtype).requires_grad_()
    check_op(lambda v: vt.diff(v, n, dim), lambda t: torch.diff(t, n, dim), [x], device)
    check_op(lambda v: v.t().diff(n, dim), lambda t: t.t().diff(n, dim), [x], device)


def test_diff_prepend_append(device):
    x = randn((3, 4)).requires_grad_()
    pre, app = randn((3, 1), seed=1).requires_grad_(), randn((3, 2), seed=2).requires_grad_()
    check_op(lambda a, b, c: vt.diff(a, 2, 1, prepend=b, append=c),
             lambda a, b, c: torch.diff(a, 2, 1, prepend=b, append=c), [x, pre, app], device)
    row = randn((1, 4), seed=3).requires_grad_()
    check_op(lambda a, b: vt.diff(a, 1, 0, append=b), lambda a, b: torch.diff(a, 1, 0, append=b), [x, row], device)
    i = torch.tensor([1, 4, 9, 16])
    f = torch.tensor([0.5])
    assert_close(vt.diff(to_vt(i, device), prepend=to_vt(f, device)), torch.diff(i, prepend=f))  # promoted


def test_diff_dtypes_and_edges(device):
    i = rand((7,), torch.int64, lo=-9, hi=9)
    for n in (1, 2):
        assert_close(vt.diff(to_vt(i, device), n), torch.diff(i, n))
    b = rand((8,), torch.bool)
    assert_close(vt.diff(to_vt(b, device)), torch.diff(b))
    assert_close(vt.diff(to_vt(b, device), 2), torch.diff(b, 2))
    for shape, dim in [((0,), 0), ((1,), 0), ((3, 0), 1), ((2, 1), 1)]:
        x = randn(shape)
        assert_close(vt.diff(to_vt(x, device), 1, dim), torch.diff(x, 1, dim))
    x = randn((3,))
    out = vt.diff(to_vt(x, device), 0)
    assert_close(out, x)


def test_diff_errors(device):
    x = to_vt(randn((2, 3)), device)
    with pytest.raises(RuntimeError, match="order must be non-negative but got -1"):
        vt.diff(x, -1)
    with pytest.raises(RuntimeError, match="diff expects input to be at least one-dimensional"):
        vt.diff(to_vt(torch.tensor(1.0), device))
    with pytest.raises(RuntimeError, match="diff expects prepend or append to be the same dimension as input"):
        vt.diff(x, dim=1, prepend=to_vt(randn((1,)), device))
    with pytest.raises(RuntimeError, match=r"input.size\(0\) = 2, but got tensor.size\(0\) = 3"):
        vt.diff(x, dim=1, append=to_vt(randn((3, 1)), device))
    with pytest.raises(TypeError, match=r"diff\(\): argument 'prepend' must be Tensor, not float"):
        vt.diff(x, prepend=1.0)
    with pytest.raises(TypeError, match=r"diff\(\): argument 'n' must be int, not float"):
        vt.diff(x, 1.0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        vt.diff(x, 1, 2)
