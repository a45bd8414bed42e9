"""The experiment runner end to end on a tiny matrix: results with provenance, resume without
redoing cells, loss parity, and clear errors for bad configs."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

import vibetensor as vt
from vibetensor.experiments import config as config_mod
from vibetensor.experiments.analysis import records as results

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
    assert "ok " in p.stdout and "vt/torch" in p.stdout  # loss parity over the steps run, the ratio's direction
    again = run_cli("run", str(cfg), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 0 and "1 already done" in again.stdout
    assert len(results.read(str(out))) == 2


@pytest.mark.parametrize("body, message", [
    ('[run]\nworkloads = ["nope"]\n', "unknown workload 'nope'"),
    ('[run]\nworkloads = ["seq_reverse"]\ndevice = "tpu"\n', "unknown device 'tpu'"),
    ('[run]\nworkloads = ["seq_reverse"]\n[[policy_sets]]\nname = "x"\npreset = "fast"\n', "fast"),
    ('[run]\nworkloads = ["seq_reverse"]\n[[policy_sets]]\nname = "x"\noverrides = { "autograd.gate" = "maybe" }\n',
     "maybe"),
    ('[run\n', "malformed TOML"),
    ('[run]\nworkloads = ["seq_reverse"]\n[[policy_sets]]\nname = "x"\nsuite_backends = { attn = "native" }\n',
     "unknown family 'attn'"),
    ('[run]\nworkloads = ["seq_reverse"]\n[[policy_sets]]\nname = "x"\nsuite_backends = { attention = "cuda" }\n',
     "unknown backend 'cuda' for attention"),
])
def test_bad_configs_are_clear_errors(tmp_path, body, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body)
    with pytest.raises(ValueError, match=message):
        config_mod.load(str(cfg))


def test_suite_backends_of_a_policy_set_reach_the_cell_and_its_record(tmp_path):
    """A policy set's suite_backends (Note [Backend per family]) is set in the cell and recorded in its policy,
    and a later cell of the same process starts without it."""
    pytest.importorskip("triton")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[run]\nworkloads = ["seq_reverse"]\n[[policy_sets]]\nname = "best"\npreset = "tuned"\n'
                   'overrides = { "kernels.backend" = "triton" }\nsuite_backends = { attention = "native" }\n')
    ps = config_mod.load(str(cfg)).policy_sets[0]
    assert ps.as_dict()["suite.attention"] == "native"
    from vibetensor.experiments import runner

    opts = {"dim": 32, "heads": 2, "layers": 1, "batch": 4}
    rec = runner.run_cell("seq_reverse", "vibetensor", "cpu", steps=1, warmup=1, policy=ps.as_dict(), options=opts,
                          probe_steps=0, gpu_steps=0)
    assert rec["policy"]["suite.attention"] == "native" and rec["policy"]["kernels.backend"] == "triton"
    assert dict(vt._C._suite_family_backends()) == {"attention": "native"}
    runner.run_cell("seq_reverse", "vibetensor", "cpu", steps=1, warmup=1, policy={}, options=opts, probe_steps=0,
                    gpu_steps=0)
    assert dict(vt._C._suite_family_backends()) == {}


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


def test_cells_of_a_workload_are_interleaved_in_rounds(tmp_path):
    """Both frameworks' cells take turns in rounds (Note [Interleaved rounds]); the records say so,
    pair by group, and the log a non-terminal gets is whole lines (no carriage returns)."""
    pytest.importorskip("torch")
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY.replace("steps = 2\n", "steps = 6\nrounds = 3\nthreads = 1\n"))
    out = tmp_path / "res.jsonl"
    p = run_cli("run", str(cfg), "--out", str(out), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    recs = results.read(str(out))
    assert {r["method"] for r in recs} == {"interleaved_rounds"}
    assert len({r["group_id"] for r in recs}) == 1 and all(r["rounds"] == 3 for r in recs)
    assert all(r["blocks"] == [2, 2, 2] and r["threads"] == 1 for r in recs)
    places = {r["framework"]: r["round_places"] for r in recs}
    assert places == {"torch": [0, 1, 0], "vibetensor": [1, 0, 1]}  # the order rotates every round
    assert p.stdout.count("round 1/3") == 1 and "round 3/3" in p.stdout
    assert "\r" not in p.stdout + p.stderr
    table = p.stdout.split("gap table", 1)[1].split("results: ", 1)[0].splitlines()
    assert len(table) > 4 and all(len(line) <= 120 for line in table)
    if importlib.util.find_spec("matplotlib"):
        chart = tmp_path / "gap.png"
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"bar chart of the ratios: {chart}" in p.stdout


def test_a_missing_reference_framework_is_named_before_any_cell(tmp_path, monkeypatch, capsys):
    from vibetensor.experiments import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "res.jsonl"
    assert cli.run_matrix(str(cfg), str(out), fresh=True) == 2
    err = capsys.readouterr().err
    assert err.count("missing: torch") == 1 and "no cell was run" in err
    assert not out.exists()


def test_child_keeps_the_package_root_when_it_is_the_working_directory(tmp_path, monkeypatch):
    """A checkout with _C built in place runs its cells from the checkout itself: the child must
    still import the package from there (Note [Child processes])."""
    from vibetensor.experiments import child

    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("print('imported from', __file__)")
    monkeypatch.setattr(child, "package_root", lambda: str(tmp_path))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = subprocess.run(child.module_command("fakepkg.mod"), cwd=tmp_path, capture_output=True, text=True, env=env,
                       timeout=60)
    assert p.returncode == 0 and str(pkg) in p.stdout, p.stderr


def test_results_are_filed_under_the_commit_of_the_clone_run_from(tmp_path):
    """An installed vibetensor run from a clone records the clone's commit (not "no-git")."""
    import vibetensor
    if os.path.exists(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(vibetensor.__file__))),
                                   "CMakeLists.txt")):
        pytest.skip("vibetensor runs from its source checkout here; its own commit is recorded")
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(git + ["init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "f").write_text("x")
    subprocess.run(git + ["add", "f"], cwd=tmp_path, check=True)
    subprocess.run(git + ["commit", "-qm", "c"], cwd=tmp_path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    code = "from vibetensor.experiments import cli; print(cli.default_results_path('configs/quick_cpu.toml'))"
    p = subprocess.run([sys.executable, "-P", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in os.environ.items() if k != "VT_GIT_COMMIT"})
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == os.path.join("experiments", "results", "quick_cpu", head[:12], "results.jsonl")


def test_policies_fit_a_terminal_and_name_every_policy(capsys, monkeypatch):
    import vibetensor as vt
    from vibetensor.experiments import cli

    monkeypatch.setenv("COLUMNS", "200")  # the text is at most 100 columns whatever the terminal

    with vt.policy.override({"autograd.gate": "global"}):
        assert cli.main(["policies"]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 120
    headers = [line.split(" = ")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert headers == list(vt.policy.current())
    assert "autograd.gate = global  (default per_graph)" in text
    assert "  values:  per_graph (default), none, global (vibe); changes at any time" in text
    assert "  where:   csrc/autograd/engine.cpp, Note [Backward engine]" in text

    assert cli.main(["policies", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == list(vt.policy.current())
    gate = next(r for r in records if r["name"] == "autograd.gate")
    assert (gate["values"], gate["vibe"]) == (["per_graph", "none", "global"], "global")
