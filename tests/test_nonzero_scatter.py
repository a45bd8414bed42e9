"""nonzero / argwhere and scatter / scatter_ (Note [scatter from scatter_add]) against torch on every device:
values, gradients (scatter's self and src), the value and reduce='add' forms, errors."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, randn, to_vt


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (), (0, 3)])
def test_nonzero(device, shape):
    x = randn(shape, torch.int64)  # integers in [-5, 5]: some zeros
    assert_close(vt.nonzero(to_vt(x, device)), torch.nonzero(x))
    assert_close(to_vt(x, device).argwhere(), x.argwhere())
    for got, ref in zip(vt.nonzero(to_vt(x, device), as_tuple=True), torch.nonzero(x, as_tuple=True)):
        assert_close(got, ref)
    b = to_vt(x > 0, device)
    assert_close(b.nonzero(), (x > 0).nonzero())


def scatter_inputs():
    index = torch.tensor([[0, 2, 1], [1, 0, 2]])  # distinct positions along dim 1 per row
    return randn((2, 4)).requires_grad_(), index, randn((2, 3), seed=1).requires_grad_()


def test_scatter_src_and_gradients(device):
    x, index, src = scatter_inputs()
    larger = randn((3, 5), seed=3)  # only src[:2, :3] is read (torch has no gradient for this case)
    check_op(lambda a, s: vt.scatter(a, 1, to_vt(index, device), s), lambda a, s: torch.scatter(a, 1, index, s),
             [x.detach(), larger], device)
    check_op(lambda a, s: vt.scatter(a, 1, to_vt(index, device), s), lambda a, s: torch.scatter(a, 1, index, s),
             [x, src], device)
    check_op(lambda a, s: a.scatter(1, to_vt(index, device), s), lambda a, s: a.scatter(1, index, s), [x, src], device)
    idx0 = torch.tensor([[1, 0, 1, 0]])
    check_op(lambda a, s: vt.scatter(a, 0, to_vt(idx0, device), s), lambda a, s: torch.scatter(a, 0, idx0, s),
             [x, randn((1, 4), seed=2).requires_grad_()], device)


def test_scatter_value_reduce_and_in_place(device):
    x, index, src = scatter_inputs()
    check_op(lambda a: vt.scatter(a, 1, to_vt(index, device), 2.5), lambda a: torch.scatter(a, 1, index, 2.5), [x],
             device)
    check_op(lambda a: a.scatter(1, to_vt(index, device), value=-1.0), lambda a: a.scatter(1, index, value=-1.0), [x],
             device)
    check_op(lambda a, s: a.scatter(1, to_vt(index, device), s, reduce="add"),
             lambda a, s: a.scatter(1, index, s, reduce="add"), [x.detach(), src.detach()], device)  # (torch: no grad)
    y = to_vt(x, device)
    assert y.scatter_(1, to_vt(index, device), to_vt(src, device)) is y
    assert_close(y, x.detach().scatter(1, index, src.detach()))
    # one_hot the torch way: zeros(...).scatter_(1, labels.unsqueeze(1), 1)
    labels = torch.tensor([2, 0, 1])
    got = vt.zeros(3, 4, device=device).scatter_(1, to_vt(labels, device).unsqueeze(1), 1)
    assert_close(got, torch.zeros(3, 4).scatter_(1, labels.unsqueeze(1), 1))
    # through autograd: a non-leaf's in-place scatter
    check_op(lambda a: (a * 2).scatter_(1, to_vt(index, device), 0.0), lambda a: (a * 2).scatter_(1, index, 0.0), [x],
             device)


def test_scatter_errors():
    x, index, src = scatter_inputs()
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        vt.scatter(to_vt(x), 1, to_vt(index), to_vt(src).double())
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
        vt.scatter(to_vt(x), 1, to_vt(index), to_vt(src), reduce="max")
