"""The kernel suite's "rotary" family on a GPU (Note [Rotary embedding] in csrc/ops/rotary.h): with
kernels.backend=triton, rotary_embedding runs one Triton kernel forward and one backward (the inverse
rotation), on the permuted qkv views of the GPT workloads without a copy, against the composed formula
in torch (fp32, bf16, fp16, head dims 16 to 256); float64 falls back with a reason. Skipped without a
GPU or Triton."""
import pytest
import torch

import vibetensor as vt

from cuda_util import cuda, requires_gpu
from harness import check_op, ops, randn, to_vt

triton = pytest.importorskip("triton")

from vibetensor.kernels import suite  # noqa: E402
from suite_util import fallbacks, launches  # noqa: E402

F = vt.nn.functional
pytestmark = [requires_gpu, pytest.mark.usefixtures("triton_suite")]
TOL = {torch.float32: dict(rtol=1e-6, atol=1e-6), torch.bfloat16: dict(rtol=1e-2, atol=1e-2),
       torch.float16: dict(rtol=1e-3, atol=1e-3)}



def rope(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def tables(T, D, dtype=torch.float32):
    angles = torch.rand(T, D // 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 6
    return angles.cos().to(dtype), angles.sin().to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("b,t,h,hd", [(32, 64, 8, 32), (4, 80, 4, 32), (2, 2048, 10, 128), (3, 7, 2, 16), (1, 5, 2, 256)],
                         ids=str)
def test_permuted_qkv_view_matches_torch(b, t, h, hd, dtype):
    qkv = randn((b, t, 3 * h * hd), dtype, seed=1)
    cos, sin = tables(t, hd, dtype)
    for i in (0, 1):
        ref_in = qkv.view(b, t, 3, h, hd).permute(2, 0, 3, 1, 4)[i].detach().requires_grad_()
        v = ops.select(ops.permute(ops.view(to_vt(qkv, cuda()), [b, t, 3, h, hd]), [2, 0, 3, 1, 4]), 0, i)
        check_op(lambda a: F.rotary_embedding(a, to_vt(cos, cuda()), to_vt(sin, cuda())),
                 lambda a: rope(a.float(), cos.float(), sin.float()).to(dtype), [ref_in], cuda(), TOL[dtype],
                 vt_inputs=[v])
    assert launches("rotary") == 4 and not fallbacks("rotary"), suite.report()


def test_fp32_tables_with_bf16_input_promote():
    x = randn((2, 3, 16, 32), torch.bfloat16, seed=2).requires_grad_()
    cos, sin = tables(16, 32)
    out, _ = check_op(lambda a: F.rotary_embedding(a, to_vt(cos, cuda()), to_vt(sin, cuda())), lambda a: rope(a, cos, sin),
                      [x], cuda(), dict(rtol=1e-5, atol=1e-5), grad_tol=TOL[torch.bfloat16])
    assert str(out.dtype) == "float32" and launches("rotary") == 2


def test_float64_falls_back_with_a_reason():
    x = randn((2, 3, 16, 32), torch.float64, seed=3).requires_grad_()
    cos, sin = tables(16, 32, torch.float64)
    check_op(lambda a: F.rotary_embedding(a, to_vt(cos, cuda()), to_vt(sin, cuda())), lambda a: rope(a, cos, sin), [x],
             cuda(), dict(rtol=1e-12, atol=1e-12))
    assert launches("rotary") == 0 and any("float64" in why for why in fallbacks("rotary")), suite.report()
