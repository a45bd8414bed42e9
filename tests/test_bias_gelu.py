"""vt::bias_gelu (vibetensor.nn.functional.bias_gelu, Note [Bias GELU] in csrc/ops/bias_gelu.h) against
torch's gelu(x + b) on every device: ranks 1 to 4, sizes that are not multiples of the kernels' blocks, both
approximations, the dtypes (a float32 bias under a half input), strided views, empty inputs, the backward op
itself and bad input; and vit_cifar's option fused_bias_gelu. tests/gpu/test_suite_bias_gelu.py runs the
Triton kernels."""
import numpy as np
import pytest
import torch

import vibetensor as vt

from harness import assert_close, check_op, ops, randn, requires_cuda, to_vt

F = vt.nn.functional
TF = torch.nn.functional
APPROX = ["none", "tanh"]
FP32 = dict(rtol=1e-5, atol=1e-5)


def ref(approximate):
    return lambda x, b: TF.gelu(x + b, approximate=approximate)


@pytest.mark.parametrize("approximate", APPROX)
@pytest.mark.parametrize("shape", [(37,), (1,), (5, 33), (3, 1025), (2, 7, 130), (2, 3, 4, 17)], ids=str)
def test_float32_matches_torch(device, shape, approximate):
    x = randn(shape, torch.float32, seed=1, scale=2.0).requires_grad_()
    b = randn(shape[-1:], torch.float32, seed=2).requires_grad_()
    check_op(lambda a, c: F.bias_gelu(a, c, approximate), ref(approximate), [x, b], device, FP32)


@pytest.mark.parametrize("approximate", APPROX)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize("shape", [(19,), (9, 70), (3, 5, 48)], ids=str)
def test_half_dtypes_match_torch(device, dtype, shape, approximate):
    """torch rounds x + b to the half type before the GELU, the op does not (Note [Bias GELU]): a few ulps."""
    x = randn(shape, dtype, seed=3, scale=2.0).requires_grad_()
    b = randn(shape[-1:], dtype, seed=4).requires_grad_()
    tol = dict(rtol=3e-2, atol=3e-2) if dtype == torch.bfloat16 else dict(rtol=5e-3, atol=5e-3)
    check_op(lambda a, c: F.bias_gelu(a, c, approximate), ref(approximate), [x, b], device, tol)


def test_float32_bias_under_a_half_input(device):
    """The result keeps the input's dtype and the bias's gradient the bias's (float32 parameters)."""
    x = randn((6, 40), torch.bfloat16, seed=5, scale=2.0).requires_grad_()
    b = randn((40,), torch.float32, seed=6).requires_grad_()
    out, _ = check_op(lambda a, c: F.bias_gelu(a, c), lambda a, c: TF.gelu(a.float() + c).to(a.dtype), [x, b], device,
                      dict(rtol=2e-2, atol=2e-2))
    assert out.dtype == vt.bfloat16


def test_float64(device):
    x = randn((4, 11), torch.float64, seed=7).requires_grad_()
    b = randn((11,), torch.float64, seed=8).requires_grad_()
    check_op(lambda a, c: F.bias_gelu(a, c, "tanh"), ref("tanh"), [x, b], device, dict(rtol=1e-10, atol=1e-12))


@pytest.mark.parametrize("view", ["column_slice", "transposed", "permuted", "expanded"])
def test_strided_inputs(device, view):
    """Layouts the kernels read through a row stride (a column slice, rows of a permuted batch) and ones
    they copy first; the values and gradients are the contiguous input's."""
    base = randn((4, 6, 64), torch.float32, seed=9)
    b = randn((40,) if view == "column_slice" else (6,) if view == "transposed" else (64,), torch.float32, seed=10)
    make = {"column_slice": lambda t: t[:, :, :40],
            "transposed": lambda t: t.transpose(-1, -2),
            "permuted": lambda t: t.permute(1, 0, 2),
            "expanded": lambda t: t[:1].expand(3, 6, 64)}[view]
    x = make(base).detach().requires_grad_()
    vt_view = {"column_slice": lambda v: ops.narrow(v, 2, 0, 40),
               "transposed": lambda v: ops.transpose(v, 1, 2),
               "permuted": lambda v: ops.permute(v, [1, 0, 2]),
               "expanded": lambda v: ops.expand(ops.narrow(v, 0, 0, 1), [3, 6, 64])}[view]
    vx = vt_view(to_vt(base, device))
    assert not vx.is_contiguous()
    check_op(lambda a, c: F.bias_gelu(a, c), ref("none"), [x, b.requires_grad_()], device, FP32,
             grad_of=[False, True], vt_inputs=[vx, to_vt(b, device)])


def test_backward_op_gives_dx_and_dbias(device):
    x, b, g = randn((3, 4, 21), seed=11), randn((21,), seed=12), randn((3, 4, 21), seed=13)
    dx, db = ops.bias_gelu_backward(to_vt(g, device), to_vt(x, device), to_vt(b, device), "tanh")
    xr, br = x.clone().requires_grad_(), b.clone().requires_grad_()
    TF.gelu(xr + br, approximate="tanh").backward(g)
    assert_close(dx, xr.grad, **FP32)
    assert_close(db, br.grad, **FP32)


def test_one_input_requiring_grad(device):
    x = randn((5, 9), seed=14).requires_grad_()
    b = randn((9,), seed=15).requires_grad_()
    check_op(lambda a, c: F.bias_gelu(a, c), ref("none"), [x, b], device, FP32, grad_of=[True, False])
    check_op(lambda a, c: F.bias_gelu(a, c), ref("none"), [x, b], device, FP32, grad_of=[False, True])


def test_empty_inputs(device):
    b = to_vt(randn((8,)), device, requires_grad=True)
    x = to_vt(torch.zeros(0, 8), device, requires_grad=True)
    y = F.bias_gelu(x, b)
    assert tuple(y.shape) == (0, 8)
    y.sum().backward()
    assert_close(b.grad, torch.zeros(8))
    dx, db = ops.bias_gelu_backward(to_vt(torch.zeros(3, 0), device), to_vt(torch.zeros(3, 0), device),
                                    to_vt(torch.zeros(0), device), "none")
    assert tuple(dx.shape) == (3, 0) and tuple(db.shape) == (0,)


def test_no_grad_records_nothing(device):
    x = to_vt(randn((2, 4)), device, requires_grad=True)
    b = to_vt(randn((4,)), device)
    with vt.no_grad():
        assert F.bias_gelu(x, b).grad_fn is None
    assert F.bias_gelu(x, b).grad_fn.name() == "BiasGeluBackward0"


def test_bad_input(device):
    x = to_vt(randn((2, 3, 4)), device)
    b = to_vt(randn((4,)), device)
    with pytest.raises(TypeError, match="bias_gelu: expected bias to be a 1-d Tensor, got float"):
        F.bias_gelu(x, 1.0)
    with pytest.raises(ValueError, match="bias_gelu: approximate must be 'none' or 'tanh', got 'sigmoid'"):
        F.bias_gelu(x, b, "sigmoid")
    with pytest.raises(ValueError, match=r"bias_gelu: expected a bias of shape \(4\) for an input of shape \[2, 3, 4\], "
                                         r"got \[5\]"):
        F.bias_gelu(x, to_vt(randn((5,)), device))
    with pytest.raises(ValueError, match=r"expected a bias of shape \(4\) .* got \[1, 4\]"):
        F.bias_gelu(x, to_vt(randn((1, 4)), device))
    with pytest.raises(ValueError, match="expected an input of shape \\(..., C\\) with at least one dim, got a 0-d"):
        F.bias_gelu(to_vt(torch.tensor(1.0), device), b)
    with pytest.raises(TypeError, match="bias_gelu: expected a floating point input, got int64"):
        F.bias_gelu(to_vt(torch.zeros(2, 4, dtype=torch.int64), device), b)
    with pytest.raises(TypeError, match=r"expected a bias of the input's dtype \(float32\), got float16"):
        F.bias_gelu(x, to_vt(randn((4,), torch.float16), device))
    with pytest.raises(TypeError, match=r"expected a bias of the input's dtype \(bfloat16\) or float32, got int32"):
        F.bias_gelu(to_vt(randn((2, 4), torch.bfloat16), device), to_vt(torch.zeros(4, dtype=torch.int32), device))
    with pytest.raises(ValueError, match=r"bias_gelu_backward: expected a grad of the input's shape \[2, 3, 4\], "
                                         r"got \[2, 4\]"):
        ops.bias_gelu_backward(to_vt(randn((2, 4)), device), x, b, "none")
    with pytest.raises(TypeError, match="bias_gelu_backward: expected a floating point grad, got int64"):
        ops.bias_gelu_backward(to_vt(torch.zeros(2, 3, 4, dtype=torch.int64), device), x, b, "none")


def test_second_derivative_is_a_clear_error(device):
    x = to_vt(randn((3, 4)), device, requires_grad=True)
    b = to_vt(randn((4,)), device, requires_grad=True)
    with pytest.raises(NotImplementedError, match="vt::bias_gelu_backward: differentiating through this backward"):
        vt.autograd.grad(F.bias_gelu(x, b).sum(), [x], create_graph=True)


@requires_cuda
def test_bias_on_another_device():
    x = to_vt(randn((2, 4)), "cuda")
    with pytest.raises(RuntimeError, match="bias_gelu: expected the bias on the input's device cuda:0, got cpu"):
        F.bias_gelu(x, to_vt(randn((4,))))


def test_vit_workload_with_fused_bias_gelu_trains_as_the_composed_form():
    """vit_cifar with the workload option fused_bias_gelu: the same losses as the Linear's bias add and GELU
    (CPU), the same parameters, and torch ignores the option (it has no bias_gelu)."""
    from vibetensor.experiments.workloads import vit_cifar

    def run(fw, fused):
        cfg = vit_cifar.Config(image=32, patch=8, cls_tokens=2, dim=32, depth=2, heads=2, mlp=64, batch=8,
                               augment=False, synthetic_size=64, fused_bias_gelu=fused)
        wl = vit_cifar.Workload(fw, "cpu", cfg)
        names = [n for n, _ in wl.model.named_parameters()]
        return [wl.step(wl.next_batch()) for _ in range(3)], names

    (composed, names), (fused, fused_names) = run(vt, False), run(vt, True)
    assert fused_names == names
    np.testing.assert_allclose(fused, composed, rtol=1e-5)
    np.testing.assert_allclose(run(torch, True)[0], composed, rtol=1e-4)
    assert composed[0] != composed[-1]  # it trains


def test_fused_mlp_calls_bias_gelu(monkeypatch):
    """The option really takes the fused op (the losses above would agree either way)."""
    from vibetensor.experiments.workloads import vit_cifar

    calls = []
    real = F.bias_gelu
    monkeypatch.setattr(F, "bias_gelu", lambda *a, **k: calls.append(1) or real(*a, **k))
    cfg = vit_cifar.Config(image=32, patch=8, cls_tokens=2, dim=16, depth=1, heads=2, mlp=32, batch=2, augment=False,
                           synthetic_size=8, fused_bias_gelu=True)
    wl = vit_cifar.Workload(vt, "cpu", cfg)
    wl.step(wl.next_batch())
    assert calls == [1]
