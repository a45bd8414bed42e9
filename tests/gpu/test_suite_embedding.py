"""The kernel suite's "embedding" family on a GPU (kernels/triton/embedding.py): with kernels.backend=triton,
embedding's forward is one Triton gather and its backward the native sort followed by two Triton kernels
(Note [Deterministic embedding backward] in csrc/ops/cuda/embedding.cu), against torch (fp32, bf16; int64 and
int32 indices; a vocabulary of 36 over 16k positions as seq_reverse's, a wide one, dims past the column
block), bitwise reproducible; bad indices raise IndexError under checks.cuda_index=sync; float64 falls back
with a reason. Skipped without a GPU or Triton."""
import pytest
import torch

import vibetensor as vt

from cuda_util import requires_gpu
from harness import to_torch

triton = pytest.importorskip("triton")

from vibetensor.kernels import suite  # noqa: E402
from suite_util import fallbacks, launches  # noqa: E402

pytestmark = [requires_gpu, pytest.mark.usefixtures("triton_suite")]
TOL = {torch.bfloat16: dict(rtol=1e-2, atol=2e-2)}
CASES = [(36, (256, 64), 128), (4096, (64, 128), 256), (1000, (37,), 33), (7, (3, 5), 1030)]


def _run(weight, idx, grad):
    w = vt.tensor(weight.float().numpy(), device="cuda").to(getattr(vt, str(weight.dtype).split(".")[1]))
    w.requires_grad_()
    out = vt.nn.functional.embedding(vt.tensor(idx.numpy(), device="cuda"), w)
    out.backward(vt.tensor(grad.float().numpy(), device="cuda").to(w.dtype))
    return to_torch(out.detach()), to_torch(w.grad)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32], ids=["i64", "i32"])
@pytest.mark.parametrize("case", CASES, ids=[f"V{c[0]}-n{c[1]}-d{c[2]}" for c in CASES])
def test_matches_torch(case, index_dtype, dtype):
    V, shape, dim = case
    g = torch.Generator().manual_seed(dim)
    weight = torch.randn(V, dim, generator=g).to(dtype)
    idx = torch.randint(0, V, shape, generator=g).to(index_dtype)
    grad = torch.randn(*shape, dim, generator=g).to(dtype)
    out, gw = _run(weight, idx, grad)
    assert launches("embedding") == 3 and not fallbacks("embedding"), suite.report()
    ref_w = weight.float().clone().requires_grad_()
    ref = torch.nn.functional.embedding(idx.long(), ref_w)
    ref.backward(grad.float())
    torch.testing.assert_close(out.float(), ref.detach().to(dtype).float(), rtol=0, atol=0)
    if dtype == torch.float32:
        _within_the_summation_bound(gw, idx, grad, V)
    else:
        torch.testing.assert_close(gw.float(), ref_w.grad, **TOL[dtype])
    assert torch.equal(_run(weight, idx, grad)[1], gw)  # bitwise, run to run


def _within_the_summation_bound(gw, idx, grad, V):
    """A float32 weight gradient sums each index's grad rows (about 455 of them for 36 tokens over 16k
    positions) in the kernels' fixed order, torch in its own: each is within the float32 bound of the exact
    sum, n * eps * sum|g| (n: the most rows one index sums), where a fixed tolerance fails on cancellation."""
    flat_idx, g64 = idx.long().reshape(-1), grad.double().reshape(-1, grad.shape[-1])
    exact = torch.zeros(V, g64.shape[1], dtype=torch.float64).index_add_(0, flat_idx, g64)
    mag = torch.zeros_like(exact).index_add_(0, flat_idx, g64.abs())
    n = int(torch.bincount(flat_idx, minlength=V).max())
    bound = n * torch.finfo(torch.float32).eps * mag
    err = (gw.double() - exact).abs()
    assert bool((err <= bound).all()), f"error over the summation bound by up to {float((err / bound).max()):.3g}x"


def test_bad_index_raises_under_sync_checks():
    w = vt.randn(6, 16, device="cuda", requires_grad=True)
    with vt.policy.override({"checks.cuda_index": "sync"}):
        with pytest.raises(IndexError, match="index 9 is out of bounds"):
            vt.nn.functional.embedding(vt.tensor([1, 9, 2], device="cuda"), w)
        with pytest.raises(IndexError, match="out of bounds"):
            vt._C._ops.embedding_backward(vt.ones(3, 16, device="cuda"), vt.tensor([1, 9, 2], device="cuda"), 6)
    assert not fallbacks("embedding"), suite.report()


def test_float64_falls_back_with_a_reason():
    w = vt.randn(5, 8, device="cuda").to(vt.float64)
    out = vt.nn.functional.embedding(vt.tensor([0, 4], device="cuda"), w)
    assert launches("embedding") == 0 and any("float64" in r for r in fallbacks("embedding")), suite.report()
    torch.testing.assert_close(to_torch(out), to_torch(w)[[0, 4]])
