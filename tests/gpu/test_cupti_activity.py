"""CUPTI kernel activity on a GPU: kernels recorded on the trace clock, busy time as a union, and
merged into vt.probes.trace in the Kineto layout. Skips without a GPU or without cupti-python."""
import json

import pytest

import vibetensor as vt
from cuda_util import requires_gpu
from vibetensor.probes import cupti

needs_cupti = pytest.mark.skipif(not cupti.available(), reason=f"CUPTI unavailable: {cupti.unavailable_reason()}")


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
