"""The kernel suite under kernels.scope=all (Note [Suite scope] in csrc/ops/suite/families.h): matmuls,
binary arithmetic and strided copies run the suite's Triton kernels (kernels/triton/matmul.py,
elementwise.py), forward and backward, against torch: transposed and sliced operands, batches that
broadcast, Python scalars under both scalars.cuda policies, in-place ops on strided views, float32 with
and without TF32, bfloat16, float16. Dtypes the kernels lack fall back with a reason; under
kernels.launch=python the same launches go through Python. Skipped without a GPU or Triton."""
import pytest
import torch

import vibetensor as vt

from cuda_util import cuda, requires_gpu
from harness import assert_close, check_op, randn, to_torch, to_vt, vt_dtype

triton = pytest.importorskip("triton")

from vibetensor.kernels import suite  # noqa: E402
from suite_util import fallbacks, launches  # noqa: E402

pytestmark = [requires_gpu, pytest.mark.usefixtures("triton_suite")]
DTYPES = [torch.float32, torch.bfloat16, torch.float16]
IDS = ["fp32", "bf16", "fp16"]
# fp32 products are IEEE (the kernel's IEEE constexpr); the sums' order differs from torch's CPU gemm
TOL = {torch.float32: dict(rtol=2e-5, atol=2e-5), torch.bfloat16: dict(rtol=2e-2, atol=2e-2),
       torch.float16: dict(rtol=2e-3, atol=2e-3)}


@pytest.fixture(autouse=True)
def scope_all():
    with vt.policy.override({"kernels.scope": "all"}):
        yield


# a float32 product of K terms accumulates about sqrt(K) float32 roundings of its largest terms: at K = 1152
# (the backward's g @ W^T) that is ~1e-4 absolute on values of ~30
MATMUL_TOL = {**TOL, torch.float32: dict(rtol=2e-5, atol=1e-4)}


def reduction_tol(dtype, n):
    """TOL widened for a gradient summed over n broadcast rows: each term was rounded to dtype by the
    kernel (as torch's own bf16 product is), so the sum carries about sqrt(n) of those roundings."""
    eps = {torch.float32: 2.0 ** -24, torch.bfloat16: 2.0 ** -8, torch.float16: 2.0 ** -11}[dtype]
    return dict(rtol=TOL[dtype]["rtol"], atol=TOL[dtype]["atol"] + 6 * eps * n ** 0.5)  # terms of magnitude ~1


def ref(fn, dtype):
    """fn computed in float64 by torch and rounded to dtype: the reference of a float32-accumulating kernel."""
    return lambda *xs: fn(*[x.double() for x in xs]).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("sa,sb", [((37, 50), (50, 21)), ((64, 384), (384, 1152)), ((3, 5, 7), (3, 7, 130)),
                                   ((2, 3, 80, 32), (2, 3, 32, 80)), ((4, 64, 384), (384, 65)), ((7,), (7, 9))],
                         ids=str)
def test_matmul_forward_and_backward(sa, sb, dtype):
    """a @ b and both gradients (the backward's products of transposed views) in the suite's kernel."""
    a = randn(sa, dtype, seed=1).requires_grad_()
    b = randn(sb, dtype, seed=2).requires_grad_()
    check_op(lambda x, y: x @ y, ref(lambda x, y: x @ y, dtype), [a, b], cuda(), MATMUL_TOL[dtype])
    # the forward at least; a 1-d operand's gradients may be products of other ops
    assert launches("matmul") >= (1 if len(sa) == 1 else 3) and not fallbacks("matmul"), suite.report()


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_linear_on_a_sliced_input(dtype):
    """F.linear (x @ w^T + b) on a strided slice: the weight's transpose and the slice go in without a copy."""
    x = randn((48, 100), dtype, seed=3)
    w = randn((30, 50), dtype, seed=4).requires_grad_()
    bias = randn((30,), dtype, seed=5).requires_grad_()
    xv = to_vt(x, cuda())[:, ::2]
    check_op(lambda x_, w_, b_: vt.nn.functional.linear(x_, w_, b_),
             ref(lambda x_, w_, b_: torch.nn.functional.linear(x_, w_, b_), dtype),
             [x[:, ::2].contiguous(), w, bias], cuda(), TOL[dtype], vt_inputs=[xv, to_vt(w, cuda()), to_vt(bias, cuda())])
    assert launches("matmul") >= 2 and not fallbacks("matmul"), suite.report()


def test_tf32_when_allowed():
    """With matmul.allow_tf32 the kernel lets tensor cores round float32 inputs (TF32's ~1e-3 error)."""
    a, b = randn((256, 512), seed=6), randn((512, 128), seed=7)
    before = vt.backends.cuda.matmul.allow_tf32
    vt.backends.cuda.matmul.allow_tf32 = True
    try:
        out = to_torch(to_vt(a, cuda()) @ to_vt(b, cuda()))
    finally:
        vt.backends.cuda.matmul.allow_tf32 = before
    assert_close(out, (a.double() @ b.double()).float(), rtol=1e-2, atol=5e-2)
    assert launches("matmul") == 1


def test_float64_and_integer_matmul_fall_back():
    a, b = randn((8, 9), torch.float64, seed=8), randn((9, 4), torch.float64, seed=9)
    assert_close(to_torch(to_vt(a, cuda()) @ to_vt(b, cuda())), a @ b, rtol=1e-12, atol=1e-12)
    assert launches("matmul") == 0 and any("float64" in why for why in fallbacks("matmul")), suite.report()


BINARY = {"add": (lambda x, y: x + y), "sub": (lambda x, y: x - y), "mul": (lambda x, y: x * y),
          "div": (lambda x, y: x / y), "add_alpha": (lambda x, y: torch.add(x, y, alpha=0.5)),
          "sub_alpha": (lambda x, y: torch.sub(x, y, alpha=-2.0))}
VT_BINARY = {"add": (lambda x, y: x + y), "sub": (lambda x, y: x - y), "mul": (lambda x, y: x * y),
             "div": (lambda x, y: x / y), "add_alpha": (lambda x, y: vt.add(x, y, alpha=0.5)),
             "sub_alpha": (lambda x, y: vt.sub(x, y, alpha=-2.0))}


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("sx,sy", [((64, 384), (64, 384)), ((8, 64, 384), (384,)), ((5, 1, 7), (1, 6, 1)),
                                   ((2, 3, 4, 5, 6), (5, 6)), ((), (4, 3)), ((17,), ())], ids=str)
def test_binary_broadcast_forward_and_backward(op, sx, sy, dtype):
    x = randn(sx, dtype, seed=10).requires_grad_()
    y = (randn(sy, dtype, seed=11).abs() + 0.5).requires_grad_()
    rows = max(1, x.numel() // max(1, y.numel()))  # how many terms each of y's gradients sums
    check_op(VT_BINARY[op], ref(BINARY[op], dtype), [x, y], cuda(), TOL[dtype], grad_tol=reduction_tol(dtype, rows))
    assert launches("elementwise") >= 1, suite.report()


@pytest.mark.parametrize("policy", ["kernel_arg", "device_copy"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_python_scalars_under_both_scalar_policies(policy, dtype):
    """x * 0.5, 2.0 - x and x / 3.0: the scalar is a kernel value (kernel_arg) or a device copy (device_copy)."""
    x = randn((33, 65), dtype, seed=12).requires_grad_()
    with vt.policy.override({"scalars.cuda": policy}):
        check_op(lambda a: (2.0 - a * 0.5) / 3.0, ref(lambda a: (2.0 - a * 0.5) / 3.0, dtype), [x], cuda(), TOL[dtype])
    assert launches("elementwise") >= 3 and not fallbacks("elementwise"), suite.report()


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_inplace_on_a_strided_view(dtype):
    """add_ / mul_ / sub_ / div_ on a transposed slice write through its strides and leave the rest alone."""
    base = randn((12, 20), dtype, seed=13)
    other = randn((10, 12), dtype, seed=14)
    v_base = to_vt(base, cuda())
    view = v_base.t()[::2]  # [10, 12], strides (2, 20)
    t_base = base.clone()
    t_view = t_base.t()[::2]
    o = to_vt(other, cuda())
    view.add_(o, alpha=3.0).mul_(o).sub_(o).div_(2.0)
    t_view.add_(other, alpha=3.0).mul_(other).sub_(other).div_(2.0)
    assert_close(v_base, t_base, **TOL[dtype])
    assert launches("elementwise") == 4 and not fallbacks("elementwise"), suite.report()


@pytest.mark.parametrize("dst_dtype", [torch.float32, torch.bfloat16], ids=["to_fp32", "to_bf16"])
def test_strided_copies(dst_dtype):
    """contiguous() of a permuted slice runs the copy kernel, and so does .to() a new dtype; .to() the same
    dtype returns the tensor itself, which the comparison then copies to a contiguous host tensor (one launch
    either way)."""
    x = randn((6, 8, 10), torch.float32, seed=15)
    v = to_vt(x, cuda()).permute(2, 0, 1)[1:, :, ::3]
    assert_close(v.contiguous(), x.permute(2, 0, 1)[1:, :, ::3].contiguous(), rtol=0, atol=0)
    assert_close(v.to(vt_dtype(dst_dtype)), x.permute(2, 0, 1)[1:, :, ::3].to(dst_dtype), rtol=0, atol=0)
    assert launches("elementwise") == 2, suite.report()


def test_integer_arithmetic_falls_back_with_a_reason():
    x = vt.arange(12, device="cuda")
    assert to_torch(x * 3 + 1).tolist() == [3 * i + 1 for i in range(12)]
    assert launches("elementwise") == 0 and any("integer" in why for why in fallbacks("elementwise")), suite.report()


def test_fused_scope_leaves_matmul_and_arithmetic_native():
    """kernels.scope=fused: the suite serves its fused families only, and is not asked for the rest."""
    with vt.policy.override({"kernels.scope": "fused"}):
        a = to_vt(randn((16, 16), seed=16), cuda())
        (a @ a + a * 2.0).contiguous()
    assert launches("matmul") == 0 and launches("elementwise") == 0
    assert not fallbacks("matmul") and not fallbacks("elementwise"), suite.report()


def test_a_training_step_matches_the_native_kernels():
    """Three SGD steps of a small MLP: every matmul, bias add, gradient product and update in the suite
    (scope=all) against the same steps on the native kernels (scope=fused), float32."""
    def run(scope):
        with vt.policy.override({"kernels.scope": scope}):
            vt.manual_seed(0)
            model = vt.nn.Sequential(vt.nn.Linear(40, 64), vt.nn.GELU(), vt.nn.Linear(64, 10)).to("cuda")
            opt = vt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
            x = to_vt(randn((32, 40), seed=17), cuda())
            y = to_vt(torch.randint(0, 10, (32,), generator=torch.Generator().manual_seed(18)), cuda())
            losses = []
            for _ in range(3):
                opt.zero_grad()
                loss = vt.nn.functional.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
            return losses
    native = run("fused")
    suite.reset_report()
    ours = run("all")
    assert launches("matmul") >= 9 and launches("elementwise") >= 1, suite.report()
    assert_close(torch.tensor(ours), torch.tensor(native), rtol=1e-5, atol=1e-6)


def test_python_launch_path_serves_the_new_families():
    """kernels.launch=python: a matmul and an add launch through the Python launcher (Note [Python kernel
    launch]), with the results of the C++ launch."""
    a, b = randn((40, 30), seed=19), randn((30, 20), seed=20)
    va, vb = to_vt(a, cuda()), to_vt(b, cuda())
    expected = to_torch(va @ vb + 1.0)
    with vt.policy.override({"kernels.launch": "python"}):
        got = to_torch(va @ vb + 1.0)
    assert_close(got, expected, rtol=0, atol=0)
    rows = [r for r in suite.report() if r["family"] in ("matmul", "elementwise") and r.get("launch") == "python"]
    assert rows and all(r["count"] >= 1 for r in rows), suite.report()


_VIBE_BACKWARD = """
import vibetensor as vt
vt.policy.apply_spec("preset=vibe,kernels.scope=all,kernels.launch=python,kernels.backend=triton")
import vibetensor.kernels  # registers the Triton compiler and the Python launcher
vt.manual_seed(0)
w = vt.randn(64, 64, device="cuda", requires_grad=True)
x = vt.randn(32, 64, device="cuda")
h = x @ w
loss = ((h @ w) * h).sum()  # w and h used twice: routing adds gradients (suite adds under scope=all)
loss.backward()
vt.cuda.synchronize()
print("ok", float(w.grad.abs().sum()) > 0)
"""


def test_vibe_backward_with_python_launches_does_not_deadlock(tmp_path):
    """The vibe preset holds the GIL through backward and routes gradients through one owner thread; under
    kernels.scope=all those routing additions are suite ops, launched from Python under kernels.launch=python.
    The owner thread must launch them from C++ (Note [Suite compiles and the GIL]): it once waited for the
    GIL the caller held, and the first vibe step never ended. In a child process with a time limit, so a
    deadlock fails this test instead of hanging the run."""
    import subprocess
    import sys

    from vibetensor.experiments.child import child_env

    try:
        p = subprocess.run([sys.executable, "-c", _VIBE_BACKWARD], env=child_env(), cwd=tmp_path, capture_output=True,
                           text=True, timeout=240)
    except subprocess.TimeoutExpired:
        pytest.fail("a vibe-preset backward under kernels.scope=all and kernels.launch=python did not finish in 240 s")
    assert p.returncode == 0 and p.stdout.strip().splitlines()[-1] == "ok True", p.stdout + p.stderr
