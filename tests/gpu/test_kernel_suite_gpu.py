"""The kernel suite's C++ launch path on a GPU (Note [Kernel suite launch path]): a Triton kernel
compiled through the registered compiler, loaded through the driver and launched with cuLaunchKernel
computes the right values; kernels.cache=locked takes the "kernels.cache" mutex on every launch and
lockfree never does; the report counts launches. Skipped without a GPU or Triton."""
import numpy as np
import pytest

import vibetensor as vt
from vibetensor import _C

from cuda_util import requires_gpu, to_numpy

triton = pytest.importorskip("triton")
import triton.language as tl  # noqa: E402

from vibetensor.kernels import suite, triton_compiler  # noqa: E402

pytestmark = requires_gpu


@triton.jit
def _gpu_suite_axpy(x_ptr, y_ptr, n, alpha, shift, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask).to(tl.float32)
    tl.store(y_ptr + offs, (x * alpha + shift.to(tl.float32)).to(y_ptr.dtype.element_ty), mask=mask)


PARAMS = [("x_ptr", "ptr"), ("y_ptr", "ptr"), ("n", "i32"), ("alpha", "f32"), ("shift", "i64")]


@pytest.fixture(autouse=True, scope="module")
def registered():
    if "gpu_suite_axpy" not in triton_compiler.kernel_table():
        triton_compiler.register("gpu_suite_axpy", _gpu_suite_axpy)
    assert suite.install()
    with vt.policy.override({"kernels.backend": "triton"}):
        yield


def _launch(x, y, n, alpha, shift, block=256, repeat=1):
    grid = [(n + block - 1) // block, 1, 1]
    return _C._suite_plan("gpu_suite", "gpu_suite_axpy", PARAMS, ["BLOCK"], [x, y, n, alpha, shift], [block], 4,
                          grid, repeat)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("n", [1, 255, 256, 1000, 70001])
def test_cpp_launch_computes_the_kernel(dtype, n):
    x = vt.randn(n, device="cuda").to(getattr(vt, dtype))
    y = vt.zeros(n, device="cuda").to(getattr(vt, dtype))
    _launch(x, y, n, 1.5, 3)
    vt.cuda.synchronize()
    want = to_numpy(x.float()) * 1.5 + 3
    tol = 1e-6 if dtype == "float32" else 2e-2
    np.testing.assert_allclose(to_numpy(y.float()), want, rtol=tol, atol=tol)


def test_launches_run_on_the_current_stream():
    s = vt.cuda.Stream()
    x = vt.randn(4096, device="cuda")
    y = vt.zeros(4096, device="cuda")
    s.wait_stream(vt.cuda.current_stream())
    with vt.cuda.stream(s):
        _launch(x, y, 4096, 2.0, 0, repeat=3)
    s.synchronize()
    np.testing.assert_allclose(to_numpy(y), to_numpy(x) * 2.0, rtol=1e-6)


def test_locked_cache_takes_the_mutex_on_every_launch():
    x = vt.randn(64, device="cuda")
    y = vt.zeros(64, device="cuda")
    _launch(x, y, 64, 1.0, 0)  # compiled outside the measurement

    def acquisitions():
        return sum(s["acquisitions"] for s in _C._lock_stats() if s["name"] == "kernels.cache")

    with vt.policy.override({"probes.locks": "on", "kernels.cache": "lockfree"}):
        _C._reset_lock_stats()
        _launch(x, y, 64, 1.0, 0, repeat=5)
        assert acquisitions() == 0
    with vt.policy.override({"probes.locks": "on", "kernels.cache": "locked"}):
        _C._reset_lock_stats()
        _launch(x, y, 64, 1.0, 0, repeat=5)
        assert acquisitions() == 5


def test_launch_on_another_device_tensor_is_refused():
    x = vt.randn(8)  # a CPU tensor
    with pytest.raises(RuntimeError, match="launches on CUDA tensors only"):
        _launch(x, vt.zeros(8), 8, 1.0, 0)


# ---- kernels.launch=python (Note [Python kernel launch]) ---------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("n", [1, 1000, 70001])
def test_python_launch_computes_the_same_kernel(dtype, n):
    from vibetensor.kernels import python_launch

    x = vt.randn(n, device="cuda").to(getattr(vt, dtype))
    y = vt.zeros(n, device="cuda").to(getattr(vt, dtype))
    with vt.policy.override({"kernels.launch": "python"}):
        _launch(x, y, n, -0.5, 7, repeat=2)
    vt.cuda.synchronize()
    want = to_numpy(x.float()) * -0.5 + 7
    tol = 1e-6 if dtype == "float32" else 5e-2
    np.testing.assert_allclose(to_numpy(y.float()), want, rtol=tol, atol=tol)
    assert any(k[0] == "gpu_suite_axpy" and k[1] == (dtype, dtype) for k in python_launch.cached_specializations())


def test_python_launch_goes_through_the_python_cache_and_its_lock():
    x = vt.randn(64, device="cuda")
    y = vt.zeros(64, device="cuda")
    with vt.policy.override({"kernels.launch": "python"}):
        _launch(x, y, 64, 1.0, 0)  # compiled outside the measurement

    def acquisitions():
        return sum(s["acquisitions"] for s in _C._lock_stats() if s["name"] == "kernels.cache")

    with vt.policy.override({"kernels.launch": "python", "probes.locks": "on", "probes.counters": "on",
                             "kernels.cache": "locked"}):
        def hits_of(repeat):
            before = dict(_C._counters())["kernel_cache_hits"]
            _launch(x, y, 64, 1.0, 0, repeat=repeat)
            return dict(_C._counters())["kernel_cache_hits"] - before

        plan_only = hits_of(0)  # _suite_plan resolves the C++ entry once to report it, launching nothing
        _C._reset_lock_stats()
        assert hits_of(5) - plan_only == 5  # one Python cache hit per launch
        assert acquisitions() == 5  # the Python cache's module-global lock, once per launch
    with vt.policy.override({"kernels.launch": "python", "probes.locks": "on", "kernels.cache": "lockfree"}):
        _C._reset_lock_stats()
        _launch(x, y, 64, 1.0, 0, repeat=5)
        assert acquisitions() == 0


def test_python_launch_is_reported_by_path():
    x = vt.randn(4, 128, device="cuda")
    import vibetensor.nn.functional as F

    suite.reset_report()
    with vt.policy.override({"kernels.launch": "python"}):
        got = F.softmax(x, -1)
    with vt.policy.override({"kernels.launch": "cpp"}):
        want = F.softmax(x, -1)
    np.testing.assert_allclose(to_numpy(got), to_numpy(want), rtol=1e-6, atol=1e-7)
    rows = {(r["family"], r["launch"]): r["count"] for r in suite.report() if not r["fallback"]}
    assert rows.get(("softmax", "python")) == 1 and rows.get(("softmax", "cpp")) == 1, rows


def test_python_launch_without_a_launcher_launches_from_cpp_and_says_so():
    x = vt.randn(64, device="cuda")
    y = vt.zeros(64, device="cuda")
    suite.reset_report()
    _C._suite_set_python_launcher(None)
    try:
        with vt.policy.override({"kernels.launch": "python"}):
            _launch(x, y, 64, 2.0, 0)
    finally:
        suite.install()
    vt.cuda.synchronize()
    np.testing.assert_allclose(to_numpy(y), to_numpy(x) * 2.0, rtol=1e-6)
    assert any(r["family"] == "gpu_suite" and "no Python launcher" in r["launch"] for r in suite.report())


def test_python_launch_failure_names_the_kernel():
    from vibetensor.kernels import python_launch

    x = vt.randn(64, device="cuda")
    y = vt.zeros(64, device="cuda")

    def broken(request):
        raise ValueError("launcher exploded")

    _C._suite_set_python_launcher(broken)
    try:
        with vt.policy.override({"kernels.launch": "python"}):
            with pytest.raises(RuntimeError, match="Python launch of gpu_suite_axpy failed: launcher exploded"):
                _launch(x, y, 64, 2.0, 0)
    finally:
        _C._suite_set_python_launcher(python_launch.launch)
