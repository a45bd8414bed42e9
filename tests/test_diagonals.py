"""diagonal, diag, diag_embed and block_diag against torch on every device: offsets (inside and past the edges),
dim pairs, gradients, view semantics (diagonal writes through), dtypes, strided inputs, empty and size-1 dims,
and the error paths."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_torch, to_vt


@pytest.mark.parametrize("offset", [0, 1, -1, 2, -3, 5, -7])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (0, 2), (-1, -2), (2, 1)])
def test_diagonal(device, offset, dims):
    x = randn((3, 4, 5)).requires_grad_()
    check_op(lambda v: vt.diagonal(v, offset, *dims), lambda t: torch.diagonal(t, offset, *dims), [x], device)
    check_op(lambda v: v.transpose(0, 2).diagonal(offset, *dims), lambda t: t.transpose(0, 2).diagonal(offset, *dims),
             [x], device)


def test_diagonal_is_a_view(device):
    x = randn((4, 4))
    v = to_vt(x, device)
    d = v.diagonal(1)
    d.mul_(0)
    x.diagonal(1).mul_(0)
    assert_close(v, x)
    sub = to_vt(x, device)[1:, :3]  # a view with an offset
    assert_close(sub.diagonal(-1), x[1:, :3].diagonal(-1))
    t = to_vt(x, device).t()  # strided, no gradient: still a view
    t.diagonal().fill_(7.0)
    x.t().diagonal().fill_(7.0)
    assert_close(t, x.t())


@pytest.mark.parametrize("dtype", [torch.float64, torch.int64, torch.bool])
def test_diagonal_dtypes_and_edges(device, dtype):
    for shape in [(0, 3), (1, 1), (2, 0, 3), (5, 1)]:
        x = rand(shape, dtype)
        assert_close(vt.diagonal(to_vt(x, device), 0, 0, 1), torch.diagonal(x, 0, 0, 1))
        assert_close(vt.diagonal(to_vt(x, device), 1, 0, 1), torch.diagonal(x, 1, 0, 1))


def test_diagonal_errors(device):
    x = to_vt(randn((2, 3)), device)
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 1, 1"):
        vt.diagonal(x, 0, 1, 1)
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 0, -2"):
        vt.diagonal(x, 0, 0, -2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        vt.diagonal(x, 0, 0, 2)
    with pytest.raises(RuntimeError, match=r"diagonal\(\): expected a tensor of at least 2 dims, got a 1-D tensor"):
        vt.diagonal(to_vt(randn((3,)), device))


@pytest.mark.parametrize("k", [0, 1, -1, 3, -2])
def test_diag(device, k):
    v = randn((4,)).requires_grad_()
    check_op(lambda a: vt.diag(a, k), lambda a: torch.diag(a, k), [v], device)
    m = randn((3, 5)).requires_grad_()
    check_op(lambda a: a.diag(k), lambda a: a.diag(k), [m], device)
    check_op(lambda a: a.t().diag(k), lambda a: a.t().diag(k), [m], device)
    i = rand((3,), torch.int64)
    assert_close(vt.diag(to_vt(i, device), k), torch.diag(i, k))
    assert_close(vt.diag(to_vt(randn((0,)), device), k), torch.diag(randn((0,)), k))


def test_diag_copies_and_errors(device):
    x = randn((3, 3))
    v = to_vt(x, device)
    d = vt.diag(v)
    d.mul_(0)
    assert_close(v, x)  # diag of a matrix is a copy, unlike diagonal
    with pytest.raises(RuntimeError, match=r"diag\(\): Supports 1D or 2D tensors. Got 3D"):
        vt.diag(to_vt(randn((2, 2, 2)), device))
    with pytest.raises(RuntimeError, match=r"diag\(\): Supports 1D or 2D tensors. Got 0D"):
        vt.diag(to_vt(torch.tensor(1.0), device))
    with pytest.raises(TypeError, match=r"diag\(\): argument 'input' must be Tensor, not list"):
        vt.diag([1.0, 2.0])


@pytest.mark.parametrize("offset,dims", [(0, (-2, -1)), (1, (0, 2)), (-2, (2, 0)), (0, (1, 3)), (2, (3, 1))])
def test_diag_embed(device, offset, dims):
    x = randn((2, 3, 4)).requires_grad_()
    check_op(lambda v: vt.diag_embed(v, offset, *dims), lambda t: torch.diag_embed(t, offset, *dims), [x], device)
    check_op(lambda v: v.transpose(0, 2).diag_embed(offset, *dims), lambda t: t.transpose(0, 2).diag_embed(offset, *dims),
             [x], device)
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical"):
        vt.diag_embed(to_vt(x, device), 0, 1, 1)


def test_block_diag(device):
    a, b, c = randn((2, 3)).requires_grad_(), randn((1, 1), seed=1).requires_grad_(), randn((3,), seed=2).requires_grad_()
    check_op(vt.block_diag, torch.block_diag, [a, b, c], device)
    check_op(lambda x, y: vt.block_diag(x.t(), y), lambda x, y: torch.block_diag(x.t(), y), [a, b], device)
    s, i = torch.tensor(5.0, dtype=torch.float64), rand((2, 2), torch.int64)
    assert_close(vt.block_diag(to_vt(s, device), to_vt(i, device)), torch.block_diag(s, i))  # promoted dtypes
    e = randn((0, 2))
    assert_close(vt.block_diag(to_vt(e, device), to_vt(randn((2, 0)), device)), torch.block_diag(e, randn((2, 0))))
    assert_close(vt.block_diag(), torch.block_diag())
    with pytest.raises(RuntimeError, match="Input tensors must have 2 or fewer dimensions. Input 1 has 3 dimensions"):
        vt.block_diag(to_vt(a, device), to_vt(randn((1, 1, 1)), device))
    with pytest.raises(TypeError, match=r"block_diag\(\): argument 0 must be Tensor, not list"):
        vt.block_diag([1.0])
    assert to_torch(vt.block_diag(to_vt(a, device))).shape == (2, 3)
