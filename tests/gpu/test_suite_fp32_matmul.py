"""kernels.fp32_matmul=tf32x3 (Note [Float32 products] in csrc/ops/suite/families.h): a float32 matmul whose
output fills the GPU runs the suite's Triton GEMM with three TF32 products, forward and backward, within
float32's error of a float64 product; a small or batched one stays on cuBLAS; TF32 allowed leaves every
product to cuBLAS; other dtypes are not affected. Skipped without a GPU or Triton."""
import pytest
import torch

import vibetensor as vt

from cuda_util import cuda, requires_gpu
from harness import randn, to_torch, to_vt

triton = pytest.importorskip("triton")

from vibetensor.kernels import suite  # noqa: E402
from suite_util import launches  # noqa: E402

pytestmark = [requires_gpu, pytest.mark.usefixtures("triton_suite")]


@pytest.fixture(autouse=True)
def tf32x3():
    with vt.policy.override({"kernels.fp32_matmul": "tf32x3"}):
        yield


def rel_err(got, want):
    got = to_torch(got).double().cpu()
    return ((got - want).abs().max() / want.abs().max()).item()


def big_enough(m, n):
    """The rule of Note [Float32 products]: at least as many 128 x 64 output tiles as SMs."""
    return -(-m // 128) * -(-n // 64) >= torch.cuda.get_device_properties(0).multi_processor_count


@pytest.mark.parametrize("m,k,n", [(8192, 256, 768), (4133, 1000, 517)], ids=str)
def test_large_products_run_tf32x3_within_float32_error(m, k, n):
    """Forward X @ W^T and the input's gradient: the suite's kernel, errors near float32's (IEEE cuBLAS
    gives ~1e-6 relative here; TF32 alone ~3e-4)."""
    assert big_enough(m, n)
    x = randn((m, k), torch.float32, seed=1)
    w = randn((n, k), torch.float32, seed=2)
    xv = to_vt(x, cuda()).requires_grad_()
    wv = to_vt(w, cuda())
    y = xv @ wv.t()
    assert launches("matmul") == 1, suite.report()
    assert rel_err(y, x.double() @ w.double().t()) < 2e-6
    g = randn((m, n), torch.float32, seed=3)
    y.backward(to_vt(g, cuda()))
    assert launches("matmul") == 2, suite.report()  # dX = G @ W in the suite
    assert rel_err(xv.grad, g.double() @ w.double()) < 2e-6


def test_small_batched_and_half_products_stay_on_cublas():
    a = to_vt(randn((64, 256), torch.float32, seed=4), cuda())
    b = to_vt(randn((256, 64), torch.float32, seed=5), cuda())
    a @ b                                       # 1 tile: cuBLAS
    q = to_vt(randn((512, 80, 32), torch.float32, seed=6), cuda())
    q @ q.transpose(-1, -2)                     # batched: cuBLAS
    h = to_vt(randn((8192, 256), torch.float32, seed=7), cuda()).to(vt.bfloat16)
    h @ h.t()                                   # not float32: cuBLAS
    assert launches("matmul") == 0, suite.report()


def test_tf32_allowed_leaves_products_to_cublas():
    a = to_vt(randn((8192, 256), torch.float32, seed=8), cuda())
    b = to_vt(randn((256, 768), torch.float32, seed=9), cuda())
    old = vt.backends.cuda.matmul.allow_tf32
    vt.backends.cuda.matmul.allow_tf32 = True
    try:
        a @ b
    finally:
        vt.backends.cuda.matmul.allow_tf32 = old
    assert launches("matmul") == 0, suite.report()


def test_cublas_value_runs_no_suite_matmul():
    a = to_vt(randn((8192, 256), torch.float32, seed=10), cuda())
    with vt.policy.override({"kernels.fp32_matmul": "cublas"}):
        a @ a.t()
    assert launches("matmul") == 0, suite.report()


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("shape", [(4, 8, 80, 32), (2, 4, 200, 64), (2, 2, 130, 128)], ids=["vit", "d64", "d128"])
def test_attention_products_run_tf32x3_within_float32_error(shape, causal):
    """The attention family's float32 products follow the policy too: forward and backward at vit's
    shape (T = 80, D = 32) and with the larger head dims' blocks, against torch's float64 SDPA, errors
    near float32's."""
    q, k, v, g = (randn(shape, torch.float32, seed=20 + i) for i in range(4))
    qv, kv, vv = (to_vt(t, cuda()).requires_grad_() for t in (q, k, v))
    out = vt.nn.functional.scaled_dot_product_attention(qv, kv, vv, is_causal=causal)
    out.backward(to_vt(g, cuda()))
    assert launches("attention") >= 4, suite.report()  # forward, and the backward's three kernels
    qd, kd, vd = (t.double().requires_grad_() for t in (q, k, v))
    ref = torch.nn.functional.scaled_dot_product_attention(qd, kd, vd, is_causal=causal)
    ref.backward(g.double())
    assert rel_err(out, ref.detach()) < 2e-6
    for got, want in ((qv, qd), (kv, kd), (vv, vd)):
        assert rel_err(got.grad, want.grad) < 5e-6
