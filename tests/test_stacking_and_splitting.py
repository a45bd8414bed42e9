"""hstack, vstack, dstack, column_stack, atleast_1d/2d/3d, tensor_split, hsplit, vsplit and dsplit against torch
on every device: 0-D, 1-D and N-D inputs, mixed dtypes, gradients, views (splits share memory), strided inputs,
empty pieces, and the error paths."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, rand, randn, to_vt


def _pair(device, vt_out, torch_out):
    vt_out = vt_out if isinstance(vt_out, tuple) else (vt_out,)
    torch_out = torch_out if isinstance(torch_out, tuple) else (torch_out,)
    assert len(vt_out) == len(torch_out)
    for g, e in zip(vt_out, torch_out):
        assert_close(g, e)


@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack", "column_stack", "row_stack"])
@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(), ()], [(2, 3), (2, 3)], [(2, 3, 4), (2, 3, 4)], [(0,), (0,)]])
def test_stacks(device, name, shapes):
    if name == "column_stack" and len(shapes[0]) == 3:
        shapes = [(2, 3), (2, 1)]
    xs = [randn(s, seed=k).requires_grad_() for k, s in enumerate(shapes)]
    check_op(lambda *v: getattr(vt, name)(list(v)), lambda *t: getattr(torch, name)(list(t)), xs, device)
    check_op(lambda *v: getattr(vt, name)(tuple(v)), lambda *t: getattr(torch, name)(tuple(t)), xs, device)


def test_stacks_mixed_shapes_dtypes_and_strided(device):
    a, b = randn((2,)), randn((2, 3), seed=1)
    assert_close(vt.column_stack([to_vt(a, device), to_vt(b, device), to_vt(torch.tensor([1.0, 2.0]), device)]),
                 torch.column_stack([a, b, torch.tensor([1.0, 2.0])]))
    assert_close(vt.vstack([to_vt(randn((3,)), device), to_vt(randn((2, 3)), device)]),
                 torch.vstack([randn((3,)), randn((2, 3))]))
    i = rand((2,), torch.int64)
    assert_close(vt.hstack([to_vt(a, device), to_vt(i, device)]), torch.hstack([a, i]))  # promoted
    m = randn((3, 2)).requires_grad_()
    check_op(lambda v: vt.hstack([v.t(), v.t()]), lambda t: torch.hstack([t.t(), t.t()]), [m], device)
    check_op(lambda v: vt.dstack([v.t(), v.t()]), lambda t: torch.dstack([t.t(), t.t()]), [m], device)


def test_stack_errors(device):
    x = to_vt(randn((2,)), device)
    for name in ("hstack", "vstack", "dstack", "column_stack"):
        with pytest.raises(RuntimeError, match=f"{name} expects a non-empty TensorList"):
            getattr(vt, name)([])
        with pytest.raises(TypeError, match=name + r"\(\): argument 'tensors' must be a tuple or list of Tensors"):
            getattr(vt, name)(x)
        with pytest.raises(TypeError, match=name + r"\(\): expected Tensor as element 1"):
            getattr(vt, name)([x, 1.0])
    with pytest.raises((RuntimeError, ValueError)):
        vt.vstack([x, to_vt(randn((3,)), device)])


@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
def test_atleast(device, name):
    for shape in [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 4)]:
        x = randn(shape).requires_grad_()
        check_op(getattr(vt, name), getattr(torch, name), [x], device)
    a, b = randn(()), randn((3,))
    _pair(device, getattr(vt, name)(to_vt(a, device), to_vt(b, device)), getattr(torch, name)(a, b))
    _pair(device, getattr(vt, name)([to_vt(a, device), to_vt(b, device)]), getattr(torch, name)([a, b]))


@pytest.mark.parametrize("arg", [3, 1, 4, 11, [2, 5, 20], [5, 2], [-2], [0], [], [10, 10], [-20, 3]])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_tensor_split(device, arg, dim):
    x = randn((10, 7)).requires_grad_()
    check_op(lambda v: vt.tensor_split(v, arg, dim), lambda t: torch.tensor_split(t, arg, dim), [x], device)
    check_op(lambda v: v.t().tensor_split(arg, dim), lambda t: t.t().tensor_split(arg, dim), [x], device)


def test_tensor_split_forms_and_views(device):
    x = torch.arange(10.0)
    v = to_vt(x, device)
    _pair(device, vt.tensor_split(v, vt.tensor(3)), torch.tensor_split(x, torch.tensor(3)))
    _pair(device, vt.tensor_split(v, vt.tensor([2, 5])), torch.tensor_split(x, torch.tensor([2, 5])))
    _pair(device, vt.tensor_split(v, sections=2), torch.tensor_split(x, sections=2))
    _pair(device, vt.tensor_split(v, indices=[2]), torch.tensor_split(x, indices=[2]))
    _pair(device, vt.tensor_split(v, (3, 4)), torch.tensor_split(x, (3, 4)))
    i = rand((7, 2), torch.int64)
    _pair(device, vt.tensor_split(to_vt(i, device), 3), torch.tensor_split(i, 3))
    first = vt.tensor_split(v, 2)[0]
    first.mul_(0)  # a view: writes reach the input
    x.tensor_split(2)[0].mul_(0)
    assert_close(v, x)
    _pair(device, vt.tensor_split(to_vt(randn((0, 2)), device), 2), torch.tensor_split(randn((0, 2)), 2))


def test_tensor_split_errors(device):
    v = to_vt(torch.arange(10.0), device)
    with pytest.raises(RuntimeError, match="number of sections must be larger than 0, got 0"):
        vt.tensor_split(v, 0)
    with pytest.raises(RuntimeError, match="tensor_split expected tensor_indices_or_sections to have dtype of long"):
        vt.tensor_split(v, vt.tensor([2.0]))
    with pytest.raises(RuntimeError, match="to be a zero-dimensional or one-dimensional tensor, but got a tensor "
                                           "with 2 dims"):
        vt.tensor_split(v, vt.tensor([[2]]))
    with pytest.raises(RuntimeError, match="tensor_split expected at least a 1-dimensional tensor"):
        vt.tensor_split(to_vt(torch.tensor(1.0), device), 2)
    with pytest.raises(TypeError, match=r"tensor_split\(\): indices_or_sections must be an int"):
        vt.tensor_split(v, 2.5)
    with pytest.raises(TypeError, match=r"pass exactly one of"):
        vt.tensor_split(v, 2, sections=2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        vt.tensor_split(v, 2, 1)


@pytest.mark.parametrize("name,shape,arg", [("hsplit", (10,), 2), ("hsplit", (3, 4), [1]), ("hsplit", (3, 4, 2), 2),
                                            ("vsplit", (4, 2), 2), ("vsplit", (6, 3), [1, 4]),
                                            ("dsplit", (2, 2, 4), 2), ("dsplit", (1, 2, 5), [3])])
def test_numpy_splits(device, name, shape, arg):
    x = randn(shape).requires_grad_()
    check_op(lambda v: getattr(vt, name)(v, arg), lambda t: getattr(torch, name)(t, arg), [x], device)
    check_op(lambda v: getattr(v, name)(arg), lambda t: getattr(t, name)(arg), [x], device)


def test_numpy_split_errors(device):
    with pytest.raises(RuntimeError, match="torch.hsplit attempted to split along dimension 0, but the size of the "
                                           "dimension 10 is not divisible by the split_size 3!"):
        vt.hsplit(to_vt(torch.arange(10.0), device), 3)
    with pytest.raises(RuntimeError, match="torch.vsplit requires a tensor with at least 2 dimension, but got a "
                                           "tensor with 1 dimensions!"):
        vt.vsplit(to_vt(torch.arange(10.0), device), 2)
    with pytest.raises(RuntimeError, match="torch.dsplit requires a tensor with at least 3 dimension"):
        vt.dsplit(to_vt(randn((2, 2)), device), 2)
    with pytest.raises(RuntimeError, match="torch.hsplit requires a tensor with at least 1 dimension"):
        vt.hsplit(to_vt(torch.tensor(1.0), device), 2)
