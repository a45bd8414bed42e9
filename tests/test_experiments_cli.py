"""The experiment runner end to end on a tiny matrix: results with provenance, resume without
redoing cells, loss parity, and clear errors for bad configs."""
import json
import os
import subprocess
import sys

import pytest

from vibetensor.experiments import config as config_mod
from vibetensor.experiments import results

TINY = """
[run]
workloads = ["seq_reverse"]
frameworks = ["torch", "vibetensor"]
device = "cpu"
steps = 2
warmup = 1

[[policy_sets]]
name = "tuned"
preset = "tuned"
"""


def run_cli(*args, cwd):
    import vibetensor
    where = os.path.dirname(os.path.dirname(os.path.abspath(vibetensor.__file__)))  # installed or in-tree
    return subprocess.run([sys.executable, "-P", "-m", "vibetensor.experiments.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, PYTHONPATH=where))


def test_run_records_provenance_and_resumes(tmp_path):
    pytest.importorskip("torch")
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "res.jsonl"
    p = run_cli("run", str(cfg), "--out", str(out), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    recs = results.read(str(out))
    assert {r["framework"] for r in recs} == {"torch", "vibetensor"}
    vt_rec = next(r for r in recs if r["framework"] == "vibetensor")
    for key in ("git_commit", "framework_version", "device", "policy", "seed", "data", "started", "finished"):
        assert key in vt_rec
    assert vt_rec["policy"]["dispatch.lookup"] == "handle"
    assert len(vt_rec["losses"]) == 3 and len(vt_rec["step_times_s"]) == 2
    assert "ok (max" in p.stdout  # loss parity over the steps run
    again = run_cli("run", str(cfg), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 0 and "2 already done" in again.stdout
    assert len(results.read(str(out))) == 2


@pytest.mark.parametrize("body, message", [
    ('[run]\nworkloads = ["nope"]\n', "unknown workload 'nope'"),
    ('[run]\nworkloads = ["seq_reverse"]\ndevice = "tpu"\n', "unknown device 'tpu'"),
    ('[run]\nworkloads = ["seq_reverse"]\n[[policy_sets]]\nname = "x"\npreset = "fast"\n', "fast"),
    ('[run]\nworkloads = ["seq_reverse"]\n[[policy_sets]]\nname = "x"\noverrides = { "autograd.gate" = "maybe" }\n',
     "maybe"),
    ('[run\n', "malformed TOML"),
])
def test_bad_configs_are_clear_errors(tmp_path, body, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body)
    with pytest.raises(ValueError, match=message):
        config_mod.load(str(cfg))


def test_corrupt_results_file_is_reported(tmp_path):
    f = tmp_path / "r.jsonl"
    f.write_text('{"a": 1}\n{"b": \n')
    with pytest.raises(ValueError, match="corrupt results line"):
        results.read(str(f))


def test_results_append_is_atomic_and_keeps_earlier_records(tmp_path):
    f = str(tmp_path / "r.jsonl")
    results.append(f, {"cell": "a"})
    results.append(f, {"cell": "b"})
    assert [r["cell"] for r in results.read(f)] == ["a", "b"]
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    json.loads(open(f).readline())


def test_a_hung_cell_is_killed_marked_failed_and_retried_on_resume(tmp_path):
    pytest.importorskip("torch")
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY.replace("warmup = 1\n", "warmup = 1\ncell_timeout_s = 0.2\n"))
    out = tmp_path / "res.jsonl"
    p = run_cli("run", str(cfg), "--out", str(out), cwd=tmp_path)
    assert p.returncode == 1
    recs = results.read(str(out))
    assert [r["status"] for r in recs] == ["failed", "failed"]  # the matrix went on after the first
    assert "cell killed after" in recs[0]["error"]
    shown = run_cli("compare", str(out), cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.count("FAILED") == 2
    cfg.write_text(TINY)
    again = run_cli("run", str(cfg), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 0 and "0 already done" in again.stdout, again.stderr
    assert [r.get("status", "ok") for r in results.read(str(out))] == ["failed", "failed", "ok", "ok"]
