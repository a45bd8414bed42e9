"""F.bilinear and nn.Bilinear against torch on every device: values and gradients of both inputs, the weight
and the bias, batch dims, float32 and float64, strided inputs, the module's parameters, init bounds, a torch
state_dict loaded, its repr, and the errors."""
import math

import pytest
import torch

import vibetensor as vt
from harness import assert_close, check_op, randn, to_torch, to_vt, vt_dtype

F = vt.nn.functional
TF = torch.nn.functional


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("batch", [(4,), (2, 3), ()], ids=str)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_matches_torch(device, batch, bias, dtype):
    x1, x2 = randn(batch + (3,), dtype, seed=1), randn(batch + (5,), dtype, seed=2)
    w, b = randn((4, 3, 5), dtype, seed=3), randn((4,), dtype, seed=4) if bias else None
    inputs = [t if t is None else t.requires_grad_() for t in (x1, x2, w, b)]
    check_op(F.bilinear, TF.bilinear, inputs, device,
             tol=dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else None)


def test_strided_inputs(device):
    x1 = randn((3, 6), seed=1)  # used as its transpose, [6, 3]
    x2 = randn((6, 5), seed=2)
    w = randn((2, 3, 5), seed=3)
    vts = [to_vt(x1, device).transpose(0, 1), to_vt(x2, device), to_vt(w, device).transpose(1, 2).transpose(1, 2)]
    check_op(F.bilinear, TF.bilinear, [x1.t().contiguous().requires_grad_(), x2.requires_grad_(), w.requires_grad_()],
             device, tol=dict(rtol=1e-5, atol=1e-6), vt_inputs=vts)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_module_loads_torch_state(device, dtype):
    torch.manual_seed(0)
    tm = torch.nn.Bilinear(3, 5, 4).to(dtype)
    vm = vt.nn.Bilinear(3, 5, 4, dtype=vt_dtype(dtype))
    assert [(n, tuple(p.shape)) for n, p in vm.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    bound = 1 / math.sqrt(3)
    assert all(to_torch(p).abs().max() <= bound for p in vm.parameters())
    assert repr(vm) == repr(tm)
    vm.load_state_dict({k: to_vt(v, device) for k, v in tm.state_dict().items()})
    vm = vm.to(device)
    x1, x2 = randn((6, 3), dtype, seed=5), randn((6, 5), dtype, seed=6)
    check_op(lambda a, b: vm(a, b), lambda a, b: tm(a, b), [x1.requires_grad_(), x2.requires_grad_()], device,
             tol=dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else None)
    tm.zero_grad()
    vm.zero_grad()  # check_op's backward reached the parameters too
    tm(x1, x2).sum().backward()
    vm(to_vt(x1.detach(), device), to_vt(x2.detach(), device)).sum().backward()
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else {}
    assert_close(vm.weight.grad, tm.weight.grad, **tol)
    assert_close(vm.bias.grad, tm.bias.grad, **tol)
    assert repr(vt.nn.Bilinear(2, 2, 1, bias=False)) == repr(torch.nn.Bilinear(2, 2, 1, bias=False))


def test_errors():
    w = vt.randn(5, 3, 4)
    with pytest.raises(RuntimeError, match="bilinear\\(\\): input dimensions do not match: got 2 and 3"):
        F.bilinear(vt.randn(2, 3), vt.randn(2, 3, 4), w)
    with pytest.raises(RuntimeError, match="input batch dimensions do not match at dim 0: got 2 and 3"):
        F.bilinear(vt.randn(2, 3), vt.randn(3, 4), w)
    with pytest.raises(RuntimeError, match="input1 size does not match weight size: got 2 but expected 3"):
        F.bilinear(vt.randn(2, 2), vt.randn(2, 4), w)
    with pytest.raises(RuntimeError, match="input2 size does not match weight size: got 5 but expected 4"):
        F.bilinear(vt.randn(2, 3), vt.randn(2, 5), w)
    with pytest.raises(RuntimeError, match="bias size does not match weight size"):
        F.bilinear(vt.randn(2, 3), vt.randn(2, 4), w, vt.randn(4))
    with pytest.raises(RuntimeError, match="weight must be 3-D"):
        F.bilinear(vt.randn(2, 3), vt.randn(2, 4), vt.randn(3, 4))
    with pytest.raises(ValueError, match="in1_features must be > 0"):
        vt.nn.Bilinear(0, 2, 3)
