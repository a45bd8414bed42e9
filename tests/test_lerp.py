"""lerp and lerp_ against torch on every device: scalar and tensor weights (small and large, where torch's two
formulas meet), gradients of all three inputs, broadcasting, dtypes, strided inputs and the error paths."""
import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, randn, to_vt


@pytest.mark.parametrize("weight", [0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 1.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_scalar_weight(device, weight, dtype):
    a = randn((3, 4), dtype).requires_grad_()
    b = randn((3, 4), dtype, seed=1).requires_grad_()
    check_op(lambda x, y: vt.lerp(x, y, weight), lambda x, y: torch.lerp(x, y, weight), [a, b], device)
    check_op(lambda x, y: x.t().lerp(y.t(), weight), lambda x, y: x.t().lerp(y.t(), weight), [a, b], device)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_tensor_weight_and_broadcasting(device, dtype):
    a = randn((3, 4), dtype).requires_grad_()
    b = randn((4,), dtype, seed=1).requires_grad_()
    w = torch.tensor([[-0.3], [0.49], [0.5], [1.2]], dtype=dtype)[:3].requires_grad_()  # both sides of 1/2
    check_op(vt.lerp, torch.lerp, [a, b, w], device)
    full = randn((3, 4), dtype, seed=2).requires_grad_()
    check_op(lambda x, y, z: vt.lerp(x.t(), y.t(), z.t()), lambda x, y, z: torch.lerp(x.t(), y.t(), z.t()),
             [a, randn((3, 4), dtype, seed=3).requires_grad_(), full], device)
    # a 0-d weight of another dtype is a number, as in torch
    w0 = torch.tensor(0.3, dtype=torch.float64)
    check_op(lambda x, y: vt.lerp(x, y, to_vt(w0, device)), lambda x, y: torch.lerp(x, y, w0),
             [a, b], device)


def test_lerp_inplace_and_edges(device):
    a, b = randn((2, 3)), randn((2, 3), seed=1)
    v = to_vt(a, device)
    assert v.lerp_(to_vt(b, device), 0.3) is v
    assert_close(v, torch.lerp(a, b, 0.3))
    w = randn((3,), seed=2)
    v = to_vt(a, device)
    v.lerp_(to_vt(b, device), to_vt(w, device))
    assert_close(v, torch.lerp(a, b, w))
    for shape in [(0,), (), (1, 1)]:
        x, y = randn(shape), randn(shape, seed=1)
        assert_close(vt.lerp(to_vt(x, device), to_vt(y, device), 0.7), torch.lerp(x, y, 0.7))


def test_lerp_errors(device):
    f, d = to_vt(randn((3,)), device), to_vt(randn((3,), torch.float64), device)
    i = to_vt(torch.arange(3), device)
    with pytest.raises(RuntimeError, match="expected dtype vibetensor.float32 for `end` but got dtype vibetensor.float64"):
        vt.lerp(f, d, 0.5)
    with pytest.raises(RuntimeError, match="expected dtype vibetensor.float32 for `weight` but got dtype vibetensor.float64"):
        vt.lerp(f, f, d)
    with pytest.raises(TypeError, match=r"lerp\(\): expected a floating point input, got vibetensor.int64"):
        vt.lerp(i, i, 0.5)
    with pytest.raises(TypeError, match=r"lerp\(\): weight must be a number or a Tensor, not str"):
        vt.lerp(f, f, "half")
    with pytest.raises((RuntimeError, ValueError)):
        f.lerp_(to_vt(randn((2, 3)), device), 0.5)  # the result would not fit self
