"""The kernel suite's "conv" family on a GPU (Note [Implicit GEMM convolution] in kernels/triton/conv.py):
with kernels.backend=triton, conv2d runs one implicit-GEMM kernel forward and one each for the input's and
the weight's gradients, against torch's conv2d on random shapes (channels and positions that are not
multiples of the tiles, stride, padding, dilation, bias, rectangular kernels), float32 in IEEE and TF32
and bfloat16 / float16; groups, asymmetric padding and float64 take the composed path. Skipped without a
GPU or Triton."""
import pytest
import torch

import vibetensor as vt

from cuda_util import cuda, requires_gpu
from harness import check_op, randn

triton = pytest.importorskip("triton")

from vibetensor.kernels import suite  # noqa: E402
from suite_util import fallbacks, launches  # noqa: E402

F = vt.nn.functional
pytestmark = [requires_gpu, pytest.mark.usefixtures("triton_suite")]


def _allow_tf32(on):
    before = vt.backends.cudnn.allow_tf32
    vt.backends.cudnn.allow_tf32 = on
    yield
    vt.backends.cudnn.allow_tf32 = before


@pytest.fixture
def ieee():
    yield from _allow_tf32(False)


@pytest.fixture
def tf32():
    yield from _allow_tf32(True)  # tests/conftest.py turns it off for the session


def _grad_tol(shape, per_product):
    """A weight gradient sums N * OH * OW unit-size products: their own rounding (per_product, relative: TF32's
    inputs) adds like a random walk, sqrt(count); float32 accumulation rounds partial sums that grow as
    sqrt(count), count times, so its error grows as the count."""
    n, _, h, w = shape[:4]
    positions = n * h * w  # at least N * OH * OW for these shapes' strides
    return dict(rtol=max(2e-5, 4 * per_product), atol=4 * (per_product * positions ** 0.5 + 6e-8 * positions))


# (N, C, H, W, OC, (KH, KW), stride, padding, dilation, bias)
SHAPES = [(2, 3, 9, 7, 5, (3, 3), 1, 1, 1, True),
          (4, 64, 16, 16, 64, (3, 3), 1, 1, 1, False),
          (3, 33, 15, 13, 70, (3, 3), 2, 1, 1, True),
          (2, 17, 12, 12, 20, (1, 1), 1, 0, 1, True),
          (1, 8, 11, 10, 9, (5, 3), (2, 1), (2, 1), 1, False),
          (2, 6, 13, 13, 7, (3, 3), 1, 2, 2, True),
          (32, 3, 32, 32, 64, (3, 3), 1, 1, 1, False),
          (2, 130, 5, 5, 129, (3, 3), 1, 1, 1, True)]


def _conv_case(shape, dtype, seed=3):
    n, c, h, w, oc, k, stride, padding, dilation, bias = shape
    x = randn((n, c, h, w), dtype, seed=seed)
    wt = (randn((oc, c) + k, dtype, seed=seed + 1).float() * (1.0 / (c * k[0] * k[1]) ** 0.5)).to(dtype)
    b = randn((oc,), dtype, seed=seed + 2) if bias else None
    for t in (x, wt, b):
        if t is not None:
            t.requires_grad_()
    args = dict(stride=stride, padding=padding, dilation=dilation)
    return [x, wt, b], args


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_float32_ieee_matches_torch(shape, ieee):
    inputs, args = _conv_case(shape, torch.float32)
    check_op(lambda x, w, b: F.conv2d(x, w, b, **args), lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **args),
             inputs, cuda(), dict(rtol=2e-5, atol=2e-5), grad_tol=_grad_tol(shape, 0))
    assert launches("conv") == 3 and not fallbacks("conv"), suite.report()


@pytest.mark.parametrize("shape", SHAPES[:4], ids=str)
def test_float32_tf32_within_tf32_tolerance(shape, tf32):
    inputs, args = _conv_case(shape, torch.float32)
    check_op(lambda x, w, b: F.conv2d(x, w, b, **args), lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **args),
             inputs, cuda(), dict(rtol=3e-3, atol=3e-3), grad_tol=_grad_tol(shape, 5e-4))
    assert launches("conv") == 3, suite.report()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("shape", [SHAPES[1], SHAPES[2], SHAPES[5]], ids=str)
def test_half_precision_matches_torch_in_float32(shape, dtype):
    inputs, args = _conv_case(shape, dtype)
    tol = dict(rtol=2e-2, atol=2e-2) if dtype == torch.bfloat16 else dict(rtol=3e-3, atol=3e-3)
    check_op(lambda x, w, b: F.conv2d(x, w, b, **args),
             lambda x, w, b: torch.nn.functional.conv2d(x.float(), w.float(), None if b is None else b.float(),
                                                        **args).to(dtype),
             inputs, cuda(), tol)
    assert launches("conv") == 3, suite.report()


def test_only_the_wanted_gradient_runs(ieee):
    inputs, args = _conv_case(SHAPES[2], torch.float32)
    inputs[0].requires_grad_(False)
    check_op(lambda x, w, b: F.conv2d(x, w, b, **args), lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **args),
             inputs, cuda(), dict(rtol=2e-5, atol=2e-5), grad_tol=_grad_tol(SHAPES[2], 0))
    assert launches("conv") == 2, suite.report()  # forward and the weight's gradient


def test_double_backward_differentiates_the_composed_products(ieee):
    inputs, args = _conv_case(SHAPES[0], torch.float32)
    x, w, b = inputs

    def penalty(lib, x, w, b):
        out = lib.nn.functional.conv2d(x, w, b, **args)
        (gw,) = lib.autograd.grad((out * out).sum(), [w], create_graph=True)
        return (gw * gw).sum()

    ref = penalty(torch, x, w, b)
    ref.backward()
    xv, wv, bv = (vt.from_numpy(t.detach().numpy()).to("cuda").requires_grad_() for t in (x, w, b))
    got = penalty(vt, xv, wv, bv)
    got.backward()
    torch.testing.assert_close(torch.tensor(got.item(), dtype=torch.float64), ref.detach().double(), rtol=1e-4, atol=1e-4)
    for v, t in ((xv, x), (wv, w)):
        torch.testing.assert_close(torch.from_numpy(v.grad.cpu().numpy()), t.grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case, reason", [
    (dict(groups=2), None), (dict(padding=(1, 1, 0, 0)), None), (dict(dtype=torch.float64), "a dtype other than")])
def test_what_the_kernels_lack_is_composed(case, reason, ieee):
    dtype = case.get("dtype", torch.float32)
    x = randn((2, 4, 8, 8), dtype, seed=5).requires_grad_()
    w = randn((6, 4 // case.get("groups", 1), 3, 3), dtype, seed=6).requires_grad_()
    if "padding" in case:
        ref_fn = lambda x, w: torch.nn.functional.conv2d(torch.nn.functional.pad(x, case["padding"]), w)  # noqa: E731
        vt_fn = lambda x, w: F.conv2d(F.pad(x, case["padding"]), w)  # noqa: E731
    else:
        g = case.get("groups", 1)
        ref_fn = lambda x, w: torch.nn.functional.conv2d(x, w, None, 1, 1, 1, g)  # noqa: E731
        vt_fn = lambda x, w: F.conv2d(x, w, None, 1, 1, 1, g)  # noqa: E731
    check_op(vt_fn, ref_fn, [x, w], cuda(), dict(rtol=1e-5, atol=1e-5))
    if reason:
        assert any(r.startswith(reason) for r in fallbacks("conv")), suite.report()
        assert launches("conv") == 0
    elif "groups" in case:
        assert launches("conv") == 0 and not fallbacks("conv")  # groups are never asked for
    else:
        assert launches("conv") == 3  # F.pad then an unpadded convolution: the suite's


def test_native_backend_runs_the_composed_path(ieee):
    inputs, args = _conv_case(SHAPES[1], torch.float32)
    with vt.policy.override({"kernels.backend": "native"}):
        check_op(lambda x, w, b: F.conv2d(x, w, b, **args),
                 lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **args), inputs, cuda(), dict(rtol=2e-5, atol=2e-5),
                 grad_tol=_grad_tol(SHAPES[1], 0))
    assert launches("conv") == 0
