"""The kernel suite's bias-fused GELU on a GPU (Note [Bias GELU] in csrc/ops/bias_gelu.h): with
kernels.backend=triton, bias_gelu runs one Triton kernel forward (bias_gelu_fwd) and two backward
(bias_gelu_bwd, then norm_bwd_dwdb for dbias), on strided rows without a copy, against torch's
gelu(x + b) computed in float32 (fp32, bf16, fp16, both approximations, vit_cifar's MLP width and
widths that are not multiples of the blocks); float64 falls back with a reason; vit_cifar with
fused_bias_gelu trains as the composed form. Skipped without a GPU or Triton."""
import numpy as np
import pytest
import torch

import vibetensor as vt

from cuda_util import cuda, requires_gpu
from harness import assert_close, check_op, ops, randn, to_vt

triton = pytest.importorskip("triton")

from vibetensor.kernels import suite  # noqa: E402
from suite_util import fallbacks, launches  # noqa: E402

F = vt.nn.functional
TF = torch.nn.functional
pytestmark = [requires_gpu, pytest.mark.usefixtures("triton_suite")]
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-4), torch.bfloat16: dict(rtol=2e-2, atol=2e-2),
       torch.float16: dict(rtol=2e-3, atol=2e-3)}
LAUNCHES = 3  # forward, backward, the bias's column sums


def ref(approximate, dtype):
    return lambda x, b: TF.gelu(x.float() + b.float(), approximate=approximate).to(dtype)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("shape", [(256, 80, 1024), (3, 1025), (7, 33), (2, 5, 130), (37,), (4, 4096)], ids=str)
def test_matches_torch(shape, dtype, approximate):
    x = randn(shape, dtype, seed=1, scale=2.0).requires_grad_()
    b = randn(shape[-1:], dtype, seed=2).requires_grad_()
    check_op(lambda a, c: F.bias_gelu(a, c, approximate), ref(approximate, dtype), [x, b], cuda(), TOL[dtype])
    assert launches("gelu") == LAUNCHES and not fallbacks("gelu"), suite.report()


@pytest.mark.parametrize("view", ["column_slice", "permuted", "transposed"])
def test_strided_rows(view):
    """A column slice is read through its row stride, other layouts after a copy: the same values."""
    base = randn((4, 6, 96), torch.float32, seed=3)
    cols = {"column_slice": 40, "permuted": 96, "transposed": 6}[view]
    b = randn((cols,), torch.float32, seed=4).requires_grad_()
    x = {"column_slice": base[:, :, :40], "permuted": base.permute(1, 0, 2),
         "transposed": base.transpose(1, 2)}[view].detach()
    v = to_vt(base, cuda())
    vx = {"column_slice": lambda: ops.narrow(v, 2, 0, 40), "permuted": lambda: ops.permute(v, [1, 0, 2]),
          "transposed": lambda: ops.transpose(v, 1, 2)}[view]()
    check_op(lambda a, c: F.bias_gelu(a, c), ref("none", torch.float32), [x, b], cuda(), TOL[torch.float32],
             grad_of=[False, True], vt_inputs=[vx, to_vt(b, cuda())])
    assert launches("gelu") == LAUNCHES and not fallbacks("gelu"), suite.report()


def test_float32_bias_under_bf16_input():
    x = randn((64, 300), torch.bfloat16, seed=5).requires_grad_()
    b = randn((300,), torch.float32, seed=6).requires_grad_()
    out, _ = check_op(lambda a, c: F.bias_gelu(a, c), ref("none", torch.bfloat16), [x, b], cuda(),
                      TOL[torch.bfloat16])
    assert out.dtype == vt.bfloat16 and launches("gelu") == LAUNCHES, suite.report()


def test_the_backward_op_on_an_expanded_grad():
    """The gradient of a sum is a stride-0 view: copied to rows, dx and dbias as torch's."""
    x = randn((33, 70), torch.float32, seed=7)
    b = randn((70,), torch.float32, seed=8)
    g = ops.expand(to_vt(torch.ones(1, 1), cuda()), [33, 70])
    dx, db = ops.bias_gelu_backward(g, to_vt(x, cuda()), to_vt(b, cuda()), "tanh")
    xr, br = x.clone().requires_grad_(), b.clone().requires_grad_()
    TF.gelu(xr + br, approximate="tanh").sum().backward()
    assert_close(dx, xr.grad, **TOL[torch.float32])
    assert_close(db, br.grad, **TOL[torch.float32])
    assert launches("gelu") == 2, suite.report()


def test_float64_falls_back_with_a_reason():
    x = randn((5, 24), torch.float64, seed=9).requires_grad_()
    b = randn((24,), torch.float64, seed=10).requires_grad_()
    check_op(lambda a, c: F.bias_gelu(a, c), lambda a, c: TF.gelu(a + c), [x, b], cuda(), dict(rtol=1e-12, atol=1e-12))
    assert launches("gelu") == 0 and any("float64" in why for why in fallbacks("gelu")), suite.report()


def test_vit_workload_with_fused_bias_gelu_trains_as_the_composed_form():
    from vibetensor.experiments.workloads import vit_cifar

    def losses(fused):
        cfg = vit_cifar.Config(image=32, patch=8, cls_tokens=2, dim=64, depth=2, heads=2, mlp=256, batch=16,
                               augment=False, synthetic_size=64, fused_bias_gelu=fused)
        wl = vit_cifar.Workload(vt, "cuda", cfg)
        return [wl.step(wl.next_batch()) for _ in range(3)]

    composed = losses(False)
    suite.reset_report()
    fused = losses(True)
    np.testing.assert_allclose(fused, composed, rtol=1e-4)
    assert launches("gelu") == 3 * 2 * LAUNCHES, suite.report()  # steps x blocks x launches
