"""The kernel suite's "cross_entropy" family on a GPU (Note [Fused cross-entropy] in
csrc/ops/cross_entropy_fused.h): with kernels.backend=triton, F.cross_entropy of (N, C) logits and class
indices runs vt::_fused_cross_entropy, one Triton kernel forward and one backward, against torch (fp32,
bf16, fp16; vocab 36 to past the looped width; ignore_index; non-contiguous logits); other inputs fall
back with a reason; a bad class index raises IndexError under checks.cuda_index=sync and gives a NaN
loss under device_assert. Skipped without a GPU or Triton."""
import pytest
import torch
import torch.nn.functional as TF

import vibetensor as vt

from cuda_util import cuda, requires_gpu
from harness import check_op, ops, randn, to_torch, to_vt

triton = pytest.importorskip("triton")

from vibetensor.kernels import suite  # noqa: E402
from suite_util import fallbacks, launches  # noqa: E402

F = vt.nn.functional
pytestmark = [requires_gpu, pytest.mark.usefixtures("triton_suite")]
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.bfloat16: dict(rtol=2e-2, atol=2e-2),
       torch.float16: dict(rtol=5e-3, atol=5e-3)}



def _launches():
    return launches("cross_entropy")


def _fallbacks():
    return fallbacks("cross_entropy")


def _targets(n, c, ignore=-100, seed=0):
    t = torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(seed))
    t[::5] = ignore
    return t


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("shape", [(8192, 36), (4096, 4096), (77, 1000), (5, 32768), (3, 50257)], ids=str)
def test_fused_cross_entropy_matches_torch(shape, dtype, reduction):
    n, c = shape
    x = randn(shape, dtype, seed=1, scale=3.0).requires_grad_()
    t = _targets(n, c)
    check_op(lambda a: F.cross_entropy(a, to_vt(t, cuda()), reduction=reduction),
             lambda a: TF.cross_entropy(a.float(), t, reduction=reduction).to(dtype), [x], cuda(), TOL[dtype])
    assert _launches() == 2 and not _fallbacks(), suite.report()  # one kernel forward, one backward


def test_non_contiguous_logits_and_ignore_index_in_range():
    base = randn((64, 100), torch.float32, seed=2)
    t = _targets(100, 64, ignore=3)
    check_op(lambda a: F.cross_entropy(a, to_vt(t, cuda()), ignore_index=3), lambda a: TF.cross_entropy(a, t, ignore_index=3),
             [base.t().requires_grad_()], cuda(), TOL[torch.float32],
             vt_inputs=[ops.transpose(to_vt(base, cuda()), 0, 1)])
    assert _launches() == 2


def test_workload_shape_matches_the_native_backend_bitwise_close():
    """minigpt's loss: (B*T, 4096) logits; the fused and the native backends agree to fp32 rounding."""
    x = randn((2048, 4096), torch.float32, seed=3)
    t = _targets(2048, 4096)
    got = to_torch(F.cross_entropy(to_vt(x, cuda()), to_vt(t, cuda())))
    with vt.policy.override({"kernels.backend": "native"}):
        native = to_torch(F.cross_entropy(to_vt(x, cuda()), to_vt(t, cuda())))
    torch.testing.assert_close(got, native, rtol=1e-6, atol=1e-6)


def test_other_inputs_fall_back_with_a_reason():
    x = randn((4, 6, 3), torch.float32, seed=4).requires_grad_()
    t = torch.randint(0, 6, (4, 3))
    check_op(lambda a: F.cross_entropy(a, to_vt(t, cuda())), lambda a: TF.cross_entropy(a, t), [x], cuda())
    assert _fallbacks() == {"logits that are not 2-d (N, C)": 1}
    suite.reset_report()
    x64 = randn((8, 5), torch.float64, seed=5).requires_grad_()
    t = torch.randint(0, 5, (8,))
    check_op(lambda a: F.cross_entropy(a, to_vt(t, cuda())), lambda a: TF.cross_entropy(a, t), [x64], cuda())
    assert any("float64" in why for why in _fallbacks()), suite.report()


def test_bad_class_index_raises_under_sync_checks():
    x = to_vt(randn((6, 10), torch.float32), cuda())
    t = to_vt(torch.tensor([1, 2, 10, 3, -100, 4]), cuda())
    with vt.policy.override({"checks.cuda_index": "sync"}):
        with pytest.raises(IndexError, match=r"_fused_cross_entropy: index 10 is out of bounds \(expected a class "
                                             r"index in \[0, 10\) or ignore_index -100\)"):
            F.cross_entropy(x, t)


def test_bad_class_index_gives_nan_under_device_assert():
    x = to_vt(randn((6, 10), torch.float32), cuda())
    t = to_vt(torch.tensor([1, 2, 10, 3, -100, 4]), cuda())
    loss = to_torch(F.cross_entropy(x, t, reduction="none"))
    assert torch.isnan(loss[2]) and not torch.isnan(loss[[0, 1, 3, 4, 5]]).any()
    assert torch.isnan(to_torch(F.cross_entropy(x, t)))
