"""CUPTI kernel activity on a GPU: kernels recorded on the trace clock, busy time as a union, and
merged into vt.probes.trace in the Kineto layout; the native collector under autograd.gil=held with
engine workers, and against cupti-python. Skips without a GPU or without a CUPTI backend."""
import json
import threading

import pytest

import vibetensor as vt
from cuda_util import requires_gpu
from vibetensor.probes import cupti

needs_cupti = pytest.mark.skipif(not cupti.available(), reason=f"CUPTI unavailable: {cupti.unavailable_reason()}")
NATIVE_REASON = cupti._native_reason() if vt.cuda.is_available() else "no GPU"
needs_native = pytest.mark.skipif(NATIVE_REASON is not None, reason=f"native collector unavailable: {NATIVE_REASON}")


@requires_gpu
@needs_cupti
def test_kernel_activity_records_kernels_inside_the_block_on_the_trace_clock():
    x = vt.randn(256, 256, device="cuda")
    vt.cuda.synchronize()
    from vibetensor import _C
    t0 = _C._trace_clock_ns()
    with cupti.KernelActivity() as act:
        for _ in range(5):
            x = (x @ x).relu() * 0.01
    t1 = _C._trace_clock_ns()
    assert act.kernel_count >= 10
    ks = act.kernels
    # on the host clock: every kernel inside the block, give or take the offset's uncertainty
    slack = 1_000_000
    assert all(t0 - slack <= k.start_ns <= k.end_ns <= t1 + slack for k in ks)
    assert 0 < act.busy_ns <= act.span_ns <= t1 - t0 + slack
    assert act.busy_ns <= sum(k.end_ns - k.start_ns for k in ks)
    assert any(r.name.startswith("cudaLaunch") for r in act.runtime_records)


@requires_gpu
@needs_cupti
def test_trace_merges_gpu_kernels_in_the_kineto_layout(tmp_path):
    m = vt.nn.Linear(64, 64).to("cuda")
    x = vt.randn(32, 64, device="cuda")
    with vt.probes.trace(str(tmp_path / "t.json"), cupti=True) as t:
        for _ in range(3):
            with vt.probes.annotate("step"):
                m(x).sum().backward()
    d = json.load(open(tmp_path / "t.json"))
    kernels = [e for e in d["traceEvents"] if e.get("cat") == "kernel"]
    assert kernels and all("correlation" in k["args"] and "External id" in k["args"] for k in kernels)
    assert any(k["args"]["External id"] > 0 for k in kernels)  # linked to a host op
    s = t.summary()
    assert len(s) == 3 and (s["kernels"] > 0).all() and (s["gpu_busy_ms"] > 0).all()
    assert d["deviceProperties"][0]["id"] == 0 and "name" in d["deviceProperties"][0]


@requires_gpu
@needs_cupti
def test_only_one_kernel_activity_at_a_time():
    with cupti.KernelActivity():
        with pytest.raises(RuntimeError, match="already recording"):
            with cupti.KernelActivity():
                pass


@requires_gpu
@needs_native
def test_native_backend_records_a_backward_under_gil_held_with_engine_workers(monkeypatch):
    # Note [CUPTI and autograd.gil=held]: cupti-python refuses this composition; the native collector's
    # C++ callbacks need no GIL, so the pool threads' launches are recorded while the caller holds it.
    monkeypatch.setenv("VT_CUPTI_BACKEND", "native")
    m = vt.nn.Linear(64, 64).to("cuda")
    x = vt.randn(32, 64, device="cuda")
    with vt.policy.override({"autograd.gil": "held", "autograd.workers": "pool"}):
        assert cupti.gil_hazard("cupti-python") and cupti.gil_hazard("native") is None
        with cupti.KernelActivity() as act:
            done = threading.Event()

            def steps():  # in a thread, so that a deadlock fails the test instead of hanging the run
                for _ in range(3):
                    m(x).sum().backward()
                done.set()

            threading.Thread(target=steps, daemon=True).start()
            assert done.wait(120), "backward under autograd.gil=held with the native collector did not finish"
    assert act.backend == "native" and act.dropped_records == 0
    assert act.kernel_count >= 6 and act.busy_ns > 0
    launches = [r for r in act.runtime_records if r.name.startswith("cudaLaunch")]
    assert len({r.thread_id for r in launches}) >= 2  # forward on the caller, backward on the pool


@requires_gpu
@needs_native
@pytest.mark.skipif(cupti._cupti_python_reason() is not None, reason="cupti-python is not installed")
def test_both_backends_record_the_same_kernels(monkeypatch):
    x = vt.randn(256, 256, device="cuda")

    def work():
        y = x
        for _ in range(5):
            y = (y @ y).relu() * 0.01
        return y

    work()
    vt.cuda.synchronize()  # warm: handles created, modules loaded
    seen = {}
    for backend in cupti.BACKENDS:
        monkeypatch.setenv("VT_CUPTI_BACKEND", backend)
        with cupti.KernelActivity() as act:
            work()
        assert act.backend == backend
        seen[backend] = sorted(k.name for k in act.kernels)
    assert len(seen["native"]) >= 10 and seen["native"] == seen["cupti-python"]
