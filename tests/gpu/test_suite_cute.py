"""kernels.backend=cute on a GPU (Note [CuTe DSL kernels on the C++ launch path] in kernels/cute/__init__.py):
the CuTe DSL kernels of softmax, log_softmax, RMSNorm, LayerNorm and cross-entropy, compiled by cute.compile,
loaded as cubins and launched from C++ through the same declarations as the Triton kernels, against torch
forward and backward (fp32, bf16, fp16; widths that are not multiples of the vector or the block, the looped
path past 8192 columns; strided rows; row counts that are not multiples of the tile); the same kernels
launched from Python (kernels.launch=python) by CuTe DSL's own launcher; a family without CuTe kernels
running natively with a reason. Skipped without a GPU or nvidia-cutlass-dsl."""
import pytest
import torch
import torch.nn.functional as TF

import vibetensor as vt

from cuda_util import cuda, requires_gpu
from harness import check_op, ops, randn, to_vt

pytest.importorskip("cutlass")

from vibetensor.kernels import suite  # noqa: E402
from suite_util import fallbacks as _fallbacks, launches, suite_backend  # noqa: E402

F = vt.nn.functional
pytestmark = requires_gpu
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.bfloat16: dict(rtol=2e-2, atol=2e-2),
       torch.float16: dict(rtol=5e-3, atol=5e-3)}
DTYPES = pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16], ids=["fp32", "bf16", "fp16"])
# Widths: below a warp, odd, the workloads' 128 and 256, not a multiple of 16, the largest single tile, looped.
WIDTHS = [1, 33, 36, 128, 256, 1000, 4096, 8192, 9000]


@pytest.fixture(autouse=True)
def cute_backend():
    with suite_backend("cute"):
        yield


def _cute_launches(family):
    return launches(family, "cute")


def test_cute_serves_the_memory_bound_families():
    served = suite.cute_families()
    for family in ("softmax", "rms_norm", "layer_norm", "cross_entropy"):
        assert family in served, served


@DTYPES
@pytest.mark.parametrize("n_cols", WIDTHS)
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_matches_torch(n_cols, dtype, log):
    rows = 77 if n_cols <= 4096 else 5
    x = randn((rows, n_cols), dtype, seed=n_cols, scale=3.0).requires_grad_()
    vt_fn, torch_fn = (F.log_softmax, TF.log_softmax) if log else (F.softmax, TF.softmax)
    check_op(lambda a: vt_fn(a, -1), lambda a: torch_fn(a.float(), -1).to(dtype), [x], cuda(), TOL[dtype])
    assert _cute_launches("softmax") == 2 and not _fallbacks("softmax"), suite.report()


def test_softmax_of_strided_rows():
    base = randn((300, 512), torch.float32, seed=3)
    x = base[:, 7:7 + 250]  # rows 512 apart, starting 7 elements in: the generic variant
    check_op(lambda a: F.softmax(a, -1), lambda a: TF.softmax(a, -1), [x.contiguous().requires_grad_()], cuda(),
             TOL[torch.float32], vt_inputs=[ops.slice(to_vt(base, cuda()), 1, 7, 257, 1)])
    assert _cute_launches("softmax") == 2


@DTYPES
@pytest.mark.parametrize("n_cols", [36, 128, 256, 1000, 4096, 9000])
@pytest.mark.parametrize("weight", [True, False], ids=["weight", "no_weight"])
def test_rms_norm_matches_torch(n_cols, dtype, weight):
    rows = 257 if n_cols <= 4096 else 9
    x = randn((rows, n_cols), dtype, seed=n_cols).requires_grad_()
    w = randn((n_cols,), dtype, seed=1).requires_grad_() if weight else None
    check_op(lambda a, b: F.rms_norm(a, (n_cols,), b, 1e-6),
             lambda a, b: TF.rms_norm(a.float(), (n_cols,), None if b is None else b.float(), 1e-6).to(dtype),
             [x, w], cuda(), TOL[dtype], grad_tol=dict(rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10))
    assert _cute_launches("rms_norm") >= 2 and not _fallbacks("rms_norm"), suite.report()


@DTYPES
@pytest.mark.parametrize("n_cols", [36, 128, 256, 1000, 4096, 9000])
def test_layer_norm_matches_torch(n_cols, dtype):
    rows = 129 if n_cols <= 4096 else 9
    x = randn((rows, n_cols), dtype, seed=n_cols).requires_grad_()
    w = randn((n_cols,), dtype, seed=1).requires_grad_()
    b = randn((n_cols,), dtype, seed=2).requires_grad_()
    check_op(lambda a, c, d: F.layer_norm(a, (n_cols,), c, d),
             lambda a, c, d: TF.layer_norm(a.float(), (n_cols,), c.float(), d.float()).to(dtype),
             [x, w, b], cuda(), TOL[dtype], grad_tol=dict(rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10))
    assert _cute_launches("layer_norm") >= 2 and not _fallbacks("layer_norm"), suite.report()


@DTYPES
@pytest.mark.parametrize("shape", [(8192, 36), (4096, 4096), (77, 1000), (5, 32768)], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_matches_torch(shape, dtype, reduction):
    n, c = shape
    x = randn(shape, dtype, seed=1, scale=3.0).requires_grad_()
    t = torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(0))
    t[::5] = -100
    check_op(lambda a: F.cross_entropy(a, to_vt(t, cuda()), reduction=reduction),
             lambda a: TF.cross_entropy(a.float(), t, reduction=reduction).to(dtype), [x], cuda(), TOL[dtype])
    assert _cute_launches("cross_entropy") == 2 and not _fallbacks("cross_entropy"), suite.report()


def test_cross_entropy_bad_target_raises_under_sync_checks():
    x = to_vt(randn((16, 10), torch.float32, seed=2), cuda())
    t = torch.arange(16) % 10
    t[3] = 12
    with vt.policy.override({"checks.cuda_index": "sync"}):
        with pytest.raises(IndexError, match="12"):
            F.cross_entropy(x, to_vt(t, cuda()))


@pytest.mark.parametrize("family_op", ["softmax", "rms_norm", "cross_entropy"])
def test_python_launch_gives_the_same_values(family_op):
    """kernels.launch=python: the same CuTe DSL kernels launched by their compiled host function."""
    x = to_vt(randn((300, 256), torch.float32, seed=4), cuda())
    t = to_vt(torch.randint(0, 256, (300,)), cuda())
    fn = {"softmax": lambda: F.softmax(x, -1), "rms_norm": lambda: F.rms_norm(x, (256,), None, 1e-6),
          "cross_entropy": lambda: F.cross_entropy(x, t, reduction="none")}[family_op]
    want = fn()
    with vt.policy.override({"kernels.launch": "python"}):
        got = fn()
    torch.testing.assert_close(torch.from_dlpack(got), torch.from_dlpack(want), rtol=0, atol=0)
    paths = {r["launch"] for r in suite.report() if r["family"] == family_op and r["backend"] == "cute"}
    assert {"cpp", "python"} <= paths, suite.report()


def test_a_family_without_cute_kernels_runs_natively_and_says_so():
    q = to_vt(randn((2, 2, 64, 32), torch.float32, seed=5), cuda())
    F.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert "the cute backend has no kernels for this family" in _fallbacks("attention"), suite.report()
