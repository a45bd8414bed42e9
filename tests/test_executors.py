"""vibetensor run --executor ray (Note [Executors] in experiments/executors.py) on a local Ray cluster of CPU
workers: the groups are placed as Ray tasks and their records gathered into the one results file, the same in
kind as a local run's; a second run resumes (nothing is run twice); a worker killed in the middle of a group
is replaced and its group run again, and no finished group is lost or duplicated."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("ray")
pytest.importorskip("torch")

CONFIG = """[run]
workloads = ["mnist_mlp", "mnist_mlp_manual"]
frameworks = ["torch", "vibetensor"]
device = "cpu"
steps = {steps}
warmup = 2
rounds = 2
threads = 1
probe_steps = 0
gpu_steps = 0

[workload_options.mnist_mlp]
synthetic_size = 512

[workload_options.mnist_mlp_manual]
synthetic_size = 512

[[policy_sets]]
name = "tuned"
preset = "tuned"
"""


MARK = f"VT_EXECUTOR_TEST={os.getpid()}-{time.time_ns()}"  # in this test's cells' environment only


def _run(tmp_path, executor, steps=10, background=False, cwd=None):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(CONFIG.format(steps=steps))
    out = tmp_path / executor / "results.jsonl"
    # -P: from the repository root, the checkout's vibetensor/ must not shadow the installed package (as the
    # `vibetensor` command does not)
    cmd = [sys.executable, "-P", "-m", "vibetensor.experiments.cli", "run", str(cfg), "--out", str(out), "--executor", executor]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a local cluster of this machine's CPUs
    env[MARK.split("=")[0]] = MARK.split("=")[1]  # the cluster's workers and their cells inherit it
    if background:
        return subprocess.Popen(cmd, cwd=cwd or tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), out
    r = subprocess.run(cmd, cwd=cwd or tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout, out


def _records(path):
    return [json.loads(line) for line in open(path)]


def test_a_ray_sweep_matches_a_local_run_in_kind_and_resumes(tmp_path):
    out_ray, ray_file = _run(tmp_path, "ray")
    assert "groups placed by ray" in out_ray and "ray: 2 group task(s)" in out_ray
    _, local_file = _run(tmp_path, "local")
    ray_recs, local_recs = _records(ray_file), _records(local_file)
    key = lambda r: (r["workload"], r["framework"], r["policy_set"])  # noqa: E731
    assert sorted(map(key, ray_recs)) == sorted(map(key, local_recs)) and len(ray_recs) == 4
    fields = {key(r): set(r) for r in local_recs}
    assert all(set(r) == fields[key(r)] for r in ray_recs), [set(r) ^ fields[key(r)] for r in ray_recs]
    assert {r["executor"] for r in ray_recs} == {"ray"} and all(r["method"] == "interleaved_rounds" for r in ray_recs)
    again, _ = _run(tmp_path, "ray")
    assert "2 already done" in again and len(_records(ray_file)) == 4


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(not os.path.isdir(os.path.join(ROOT, ".git")), reason="needs the repository's git checkout")
def test_a_ray_sweep_from_the_repository_root_records_its_commit(tmp_path):
    """Run where experiments/README.md runs it: the checkout's vibetensor/ (no built _C) must not shadow the
    package on Ray's workers, and every record carries the commit the results file is checked against."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    _, out = _run(tmp_path, "ray", steps=4, cwd=ROOT)
    recs = _records(out)
    assert len(recs) == 4 and all(r.get("status") != "failed" for r in recs)
    assert {r["git_commit"] for r in recs} == {head}


def _cell_pids():
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ")
            except OSError:
                continue
            try:
                mine = MARK.encode() in open(f"/proc/{d}/environ", "rb").read()
            except OSError:
                continue
            if b"vibetensor.experiments.cell" in cmd and mine:  # this test's cells, not another run's
                pids.append(int(d))
    return pids


def _parent(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return None


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the worker through /proc")
def test_a_lost_worker_is_replaced_and_its_group_rerun(tmp_path):
    proc, out = _run(tmp_path, "ray", steps=400, background=True)
    worker = None
    deadline = time.time() + 120
    while worker is None and time.time() < deadline and proc.poll() is None:
        pids = _cell_pids()
        if pids:
            worker = _parent(pids[0])  # the Ray worker running that cell's group
        time.sleep(0.2)
    assert worker, "no cell process appeared"
    os.kill(worker, signal.SIGKILL)
    text, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, text[-4000:]
    recs = _records(out)
    assert len(recs) == 4 and len({(r["workload"], r["framework"]) for r in recs}) == 4, recs
    assert all(r.get("status") != "failed" for r in recs)
