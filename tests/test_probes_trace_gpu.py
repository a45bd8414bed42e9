"""vt.probes.trace's Kineto layout, the CUPTI-absent paths, and the py-spy helper. GPU activity
itself is recorded in tests/gpu/test_cupti_activity.py; here the merge and the summary run on GPU
records given as data, as CUPTI would deliver them."""
import json
import os
import subprocess
import sys

import pytest

import vibetensor as vt
from vibetensor.probes import cupti, pyspy
from vibetensor.probes.trace import Trace, union_ns

no_gpu = pytest.mark.skipif(vt.cuda.is_available(), reason="checks the path without a GPU")


@no_gpu
def test_cupti_absent_is_a_clear_error_when_required():
    assert not cupti.available() and "no CUDA GPU" in cupti.unavailable_reason()
    with pytest.raises(RuntimeError, match="GPU activity was required.*no CUDA GPU"):
        with vt.probes.trace(None, cupti=True):
            pass
    with pytest.raises(RuntimeError, match="KernelActivity needs CUPTI, but no CUDA GPU"):
        cupti.KernelActivity()


@no_gpu
def test_best_effort_trace_without_gpu_records_host_events_only(tmp_path, recwarn):
    m = vt.nn.Linear(8, 4)
    with vt.probes.trace(str(tmp_path / "t.json")) as t:
        with vt.probes.annotate("step"):
            m(vt.randn(3, 8)).sum().backward()
    assert not [w for w in recwarn if "GPU kernels" in str(w.message)]  # no GPU: nothing to warn about
    d = json.load(open(tmp_path / "t.json"))
    assert {e["cat"] for e in d["traceEvents"] if e["ph"] == "X"} >= {"cpu_op", "user_annotation"}
    assert t.gpu_events == [] and "kernels" not in t.summary().columns


def test_union_counts_overlapping_intervals_once():
    assert union_ns([(0, 10), (5, 15), (20, 30)]) == 25
    assert union_ns([]) == 0


def _trace_with_gpu():
    """One step on thread 7 with an op around one kernel launch; a second stream's kernel
    overlaps the first; a memcpy; the launch comes from CUPTI thread 99."""
    t = Trace(None)
    t.cpu_events = [(1000, 9000, "step", "python", 7), (2000, 4000, "vt::mm", "op", 7),
                    (5000, 6000, "vt::add", "op", 7)]
    t.runtime_events = [cupti.RuntimeRecord("cudaLaunchKernel", 2500, 2600, 99, 11),
                        cupti.RuntimeRecord("cudaLaunchKernel", 5100, 5200, 99, 12),
                        cupti.RuntimeRecord("cudaMemcpyAsync", 5300, 5400, 99, 13)]
    t.gpu_events = [cupti.GpuRecord("kernel", "gemm", 3000, 7000, 0, 7, 11, 0, (4, 1, 1), (128, 1, 1)),
                    cupti.GpuRecord("kernel", "add", 6000, 8000, 0, 13, 12, 0, (1, 1, 1), (256, 1, 1)),
                    cupti.GpuRecord("memcpy", "Memcpy HtoD", 8500, 8600, 0, 7, 13, 4096)]
    return t


def test_gpu_records_follow_the_kineto_layout():
    d = _trace_with_gpu().chrome_trace()
    ev = d["traceEvents"]
    kernels = [e for e in ev if e.get("cat") == "kernel"]
    assert [(k["pid"], k["tid"]) for k in kernels] == [(0, 7), (0, 13)]
    assert all({"correlation", "External id", "device", "stream", "grid", "block"} <= k["args"].keys() for k in kernels)
    ops = {e["name"]: e for e in ev if e.get("cat") == "cpu_op"}
    runtime = {e["args"]["correlation"]: e for e in ev if e.get("cat") == "cuda_runtime"}
    # the launch is mapped onto the host thread of the op around it and shares its External id
    assert runtime[11]["tid"] == 7 and runtime[11]["args"]["External id"] == ops["vt::mm"]["args"]["External id"]
    assert kernels[0]["args"]["External id"] == ops["vt::mm"]["args"]["External id"]
    assert kernels[1]["args"]["External id"] == ops["vt::add"]["args"]["External id"]
    flows = [e for e in ev if e.get("cat") == "ac2g"]
    assert sorted((f["ph"], f["id"]) for f in flows) == [("f", 11), ("f", 12), ("f", 13), ("s", 11), ("s", 12), ("s", 13)]
    assert [e for e in ev if e.get("cat") == "gpu_memcpy"][0]["args"]["bytes"] == 4096
    assert {"traceEvents", "deviceProperties", "distributedInfo", "baseTimeNanoseconds"} <= d.keys()
    assert d["distributedInfo"]["rank"] == 0
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["ph"] == "M"}
    assert names[(0, 13)] == "stream 13" and names[(0, 0)] == "GPU 0"


def test_summary_reports_busy_union_kernels_and_idle_gaps():
    s = _trace_with_gpu().summary().iloc[0]
    assert s["kernels"] == 2
    assert s["gpu_busy_ms"] == pytest.approx(5000 / 1e6)      # [3000, 8000): the overlap counts once
    assert s["gpu_span_ms"] == pytest.approx(5000 / 1e6) and s["gpu_idle_ms"] == 0
    assert s["gpu_busy_fraction"] == pytest.approx(5000 / 8000)


def _pyspy_missing():
    try:
        pyspy.executable()
    except RuntimeError:
        return True
    return False


pyspy_missing = _pyspy_missing()


@pytest.mark.skipif(pyspy_missing, reason="py-spy is not installed")
def test_pyspy_record_writes_a_speedscope_profile(tmp_path):
    out = pyspy.record([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 0.5: pass"],
                       str(tmp_path / "p.json"), rate=200)
    d = json.load(open(out))
    assert d["profiles"] and d["shared"]["frames"]


def test_pyspy_rejects_bad_arguments(tmp_path):
    if pyspy_missing:
        with pytest.raises(RuntimeError, match="py-spy is not installed"):
            pyspy.record(["true"], str(tmp_path / "p.json"))
        return
    with pytest.raises(TypeError, match="list of arguments"):
        pyspy.record("python x.py", str(tmp_path / "p.json"))
    with pytest.raises(ValueError, match="fmt must be one of"):
        pyspy.record(["true"], str(tmp_path / "p.json"), fmt="pdf")
    with pytest.raises(RuntimeError, match="exited with 1"):  # py-spy cannot start the target
        pyspy.record([str(tmp_path / "no-such-program")], str(tmp_path / "p.json"))


@pytest.mark.skipif(pyspy_missing, reason="py-spy is not installed")
def test_cli_py_spy_keeps_a_profile_per_cell(tmp_path):
    cfg = tmp_path / "tiny.toml"
    # two cells in interleaved rounds: each exits after its record while py-spy writes, not killed (rounds.close)
    cfg.write_text('[run]\nworkloads = ["seq_reverse"]\nframeworks = ["vibetensor"]\ndevice = "cpu"\nsteps = 2\n'
                   'warmup = 1\nrounds = 2\n\n[[policy_sets]]\nname = "tuned"\npreset = "tuned"\n\n'
                   '[[policy_sets]]\nname = "vibe"\npreset = "vibe"\n')
    out = tmp_path / "res" / "results.jsonl"
    where = os.path.dirname(os.path.dirname(os.path.abspath(vt.__file__)))
    p = subprocess.run([sys.executable, "-P", "-m", "vibetensor.experiments.cli", "run", str(cfg), "--out", str(out),
                        "--py-spy"], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, PYTHONPATH=where))
    assert p.returncode == 0, p.stderr
    profiles = os.listdir(tmp_path / "res" / "profiles")
    assert len(profiles) == 2, profiles
    for name in profiles:
        assert json.load(open(tmp_path / "res" / "profiles" / name))["profiles"]


def test_cupti_refuses_the_gil_held_compositions_that_would_deadlock():
    from vibetensor.probes import cupti

    with vt.policy.override({"preset": "vibe"}):
        hazard = cupti.gil_hazard()
        assert hazard and "autograd.gil=held" in hazard and "autograd.workers=spawn" in hazard
    with vt.policy.override({"autograd.gil": "held", "autograd.workers": "caller", "autograd.routing": "worker"}):
        assert cupti.gil_hazard() is None  # the waiting thread is the only one launching kernels
    with vt.policy.override({"autograd.gil": "held", "autograd.workers": "caller", "autograd.routing": "owner"}):
        assert "autograd.routing=owner" in cupti.gil_hazard()
    assert cupti.gil_hazard() is None  # tuned


def _speedscope(tmp_path, frames, profiles):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"shared": {"frames": frames},
                                "profiles": [{"type": "sampled", "samples": s, "weights": w} for s, w in profiles]}))
    return str(path)


def test_pyspy_read_profile_labels_cuts_and_times_frames(tmp_path):
    frames = [{"name": "0x7f00", "file": "/usr/lib/libc.so.6", "line": 0},
              {"name": "main", "file": "/x/cell.py", "line": 3},
              {"name": "CellSession.block", "file": "/x/runner.py", "line": 9},
              {"name": "f", "file": "/x/w.py", "line": 1},
              {"name": "f", "file": "/x/w.py", "line": 2},  # another line of f: the same box
              {"name": "gemm", "file": "/x/libblas.so", "line": 0}]
    path = _speedscope(tmp_path, frames, [([[0, 1, 2, 3, 5], [0, 1, 2, 3, 4], [0, 1]], [0.01, 0.02, 0.04]),
                                          ([[0, 1, 2, 3]], [0.03])])  # a second thread
    stacks = pyspy.read_profile(path)
    assert stacks[0] == (("[libc.so.6]", "main (cell.py)", "CellSession.block (runner.py)", "f (w.py)",
                          "gemm (libblas.so)"), 0.01)
    assert len(stacks) == 4 and sum(w for _, w in stacks) == pytest.approx(0.10)
    path2 = _speedscope(tmp_path, frames, [([[0, 1, 2, 3, 5], [0, 1, 2, 3, 4], [0, 1]], [0.01, 0.02, 0.04]),
                                           ([[0, 3]], [0.03])])  # a helper thread that never runs the block
    within = pyspy.read_profile(path2, within="CellSession.block")
    assert [s[0] for s, _ in within] == ["CellSession.block (runner.py)"] * 2 + ["[libc.so.6]"]  # kept whole
    times = pyspy.frame_times(within)
    assert times["f (w.py)"] == pytest.approx((0.05, 0.06))  # f -> f (recursion) counts once in its total
    assert times["gemm (libblas.so)"] == pytest.approx((0.01, 0.01))
    assert times["CellSession.block (runner.py)"] == pytest.approx((0.0, 0.03))
    assert len(pyspy.read_profile(path, within="CellSession.block")) == 3  # the main thread's third sample: outside


def test_pyspy_read_profile_rejects_what_is_not_speedscope(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"traceEvents": []}))
    with pytest.raises(ValueError, match="not a speedscope profile"):
        pyspy.read_profile(str(path))
