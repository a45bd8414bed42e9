"""meshgrid and cartesian_prod against torch on every device: both indexings, 0-D and empty inputs, list and
varargs forms, gradients (summed over the broadcast dims), dtypes, strided inputs and the error paths."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(3,), (3, 4), (2, 3, 4), (0, 2), (1, 5)])
def test_meshgrid(device, indexing, sizes):
    xs = [randn((n,), seed=k).requires_grad_() for k, n in enumerate(sizes)]
    check_op(lambda *v: vt.meshgrid(*v, indexing=indexing), lambda *t: torch.meshgrid(*t, indexing=indexing), xs,
             device)
    check_op(lambda *v: vt.meshgrid(list(v), indexing=indexing), lambda *t: torch.meshgrid(list(t), indexing=indexing),
             xs, device)


def test_meshgrid_default_0d_strided_and_dtypes(device):
    a, b = randn((3,)), randn((2,), seed=1)
    for got, expected in zip(vt.meshgrid(to_vt(a, device), to_vt(b, device)), torch.meshgrid(a, b, indexing="ij")):
        assert_close(got, expected)
    s = torch.tensor(4.0)
    for got, expected in zip(vt.meshgrid(to_vt(s, device), to_vt(a, device), indexing="xy"),
                             torch.meshgrid(s, a, indexing="xy")):
        assert_close(got, expected)
    m = randn((3, 2)).requires_grad_()
    check_op(lambda v: vt.meshgrid(v.t()[0], v[:, 1], indexing="xy"),
             lambda t: torch.meshgrid(t.t()[0], t[:, 1], indexing="xy"), [m], device)
    i = rand((4,), torch.int64)
    for got, expected in zip(vt.meshgrid(to_vt(i, device), to_vt(i, device), indexing="ij"),
                             torch.meshgrid(i, i, indexing="ij")):
        assert_close(got, expected)


def test_meshgrid_errors(device):
    a = to_vt(randn((3,)), device)
    with pytest.raises(RuntimeError, match=r'indexing must be one of "xy" or "ij", but received: zz'):
        vt.meshgrid(a, a, indexing="zz")
    with pytest.raises(RuntimeError, match="meshgrid expects a non-empty TensorList"):
        vt.meshgrid(indexing="ij")
    with pytest.raises(RuntimeError, match=r"meshgrid: expected 0D or 1D tensors, but tensor 1 has shape \[2, 2\]"):
        vt.meshgrid(a, to_vt(randn((2, 2)), device), indexing="ij")
    with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
        vt.meshgrid(a, to_vt(randn((2,), torch.float64), device), indexing="ij")
    with pytest.raises(TypeError, match=r"meshgrid\(\): argument 1 must be Tensor, not list"):
        vt.meshgrid(a, [1.0], indexing="ij")


@pytest.mark.parametrize("sizes", [(3,), (3, 2), (2, 3, 4), (0, 3), (1, 1)])
def test_cartesian_prod(device, sizes):
    xs = [randn((n,), torch.float64, seed=k).requires_grad_() for k, n in enumerate(sizes)]
    check_op(vt.cartesian_prod, torch.cartesian_prod, xs, device)
    i = [rand((n,), torch.int64, seed=k) for k, n in enumerate(sizes)]
    assert_close(vt.cartesian_prod(*[to_vt(t, device) for t in i]), torch.cartesian_prod(*i))


def test_cartesian_prod_errors(device):
    with pytest.raises(RuntimeError, match=r"cartesian_prod: expected 1D vectors, but got shape \[\]"):
        vt.cartesian_prod(to_vt(torch.tensor(1.0), device), to_vt(randn((3,)), device))
    with pytest.raises(RuntimeError, match="cartesian_prod expects all tensors to have the same dtype"):
        vt.cartesian_prod(to_vt(randn((2,)), device), to_vt(rand((3,), torch.int64), device))
