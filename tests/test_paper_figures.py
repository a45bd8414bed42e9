"""vibetensor-figures (paper/figures.py) on small results trees the test writes."""
import csv
import json
import os

import pytest

pytest.importorskip("matplotlib")
from vibetensor.paper import figures  # noqa: E402

TUNED = {"autograd.gate": "per_graph", "scalars.cuda": "kernel_arg", "alloc.lock": "per_device"}
VIBE = {"autograd.gate": "global", "scalars.cuda": "device_copy", "alloc.lock": "global"}  # three policies: one add-one cell is never a leave-one-out one


def _cell(framework, policy_set, policy, ms, **extra):
    return {"framework": framework, "workload": "seq_reverse", "device": "cuda", "policy_set": policy_set,
            "policy": policy, "median_step_ms": ms, "step_times_s": [ms / 1e3] * 5, "losses": [1.0] * 5,
            "invocation": "i", "repeat": 0, "git_commit": "abc1234", "finished": "2026-11-25T00:00:00", **extra}


def _write(root, rel, payload):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        if rel.endswith(".jsonl"):
            f.write("".join(json.dumps(r) + "\n" for r in payload))
        else:
            json.dump(payload, f)


def _results_tree(root):
    _write(root, "h100/abc/h100.jsonl", [_cell("torch", None, {}, 10.0), _cell("vibetensor", "tuned", TUNED, 5.0),
                                         _cell("vibetensor", "vibe", VIBE, 20.0)])
    blocks = []
    for cycle, noise in enumerate((0.0, 0.2, -0.1)):
        for name, pol, ms in (("tuned", TUNED, 5.0), ("vibe", VIBE, 20.0),
                              ("vibe-scalars.cuda", {**VIBE, "scalars.cuda": "kernel_arg"}, 11.0),
                              ("tuned+scalars.cuda", {**TUNED, "scalars.cuda": "device_copy"}, 12.0)):
            blocks.append(_cell("vibetensor", name, pol, ms + noise, repeat=cycle, method="in_process_blocks"))
    _write(root, "ablation_h100/abc/ablation.jsonl", blocks)
    # the suite's attribution draws the invocation of vibetensor ablate that finished last
    _write(root, "ablation_h100_suite/abc/ablation.jsonl", blocks)
    _write(root, "ablation_h100_suite/old/ablation.jsonl",
           [dict(b, finished="2026-11-24T00:00:00", git_commit="0ld0000", median_step_ms=2 * b["median_step_ms"]) for b in blocks])
    # a fresh-process ablation run shares the folder; the attribution reads only vibetensor ablate's blocks
    _write(root, "ablation_h100/def/ablation_h100.jsonl", [_cell("vibetensor", "vibe", VIBE, 99.0)])
    _write(root, "gpu/s/contention_cpu.json", {"device": "cpu", "cpu_count": 16, "rows": [
        {"threads": n, "gate": g, "steps_per_s": sps, "gate_wait_ms": w}
        for n, g, sps, w in ((1, "per_graph", 100, 0), (1, "global", 100, 0), (4, "per_graph", 400, 0), (4, "global", 150, 900))]})
    _write(root, "gpu/s/probe_cost.json", {"device": "cuda", "workload": "seq_reverse", "git_commit": "abc1234",
                                           "cross_build": [{"variant": "a_compiled_out", "ratio": 1.0, "ci95": [1, 1]},
                                                           {"variant": "b_probes_off", "ratio": 1.002, "ci95": [0.99, 1.01]}]})
    _write(root, "vibetensor_reference/paper_x.json", {"provenance": {"git_commit": "paper"},
                                                      "ratios": {"seq_reverse": 2.1, "minigpt": 4.7}})
    _write(root, "vibetensor_reference/h100_x.json", {"provenance": {"git_commit": "fe85461"},
                                                    "rows": [{"workload": "seq_reverse", "real_vibetensor": 2.37}]})
    prov = {"git_commit": "abc1234", "device": "NVIDIA H100 80GB HBM3", "time": "2026-12-07T01:48:41+0000"}
    _write(root, "gpu/s/ks_cute.json", {"provenance": prov, "results": {"copy_gbps": 3000.0, "rows": [
        {"family": "softmax", "shape": "33280x256", "dtype": "bfloat16", "pass": "fwd+bwd", "impl": impl, "ms": ms,
         "vs_torch": ms / 0.2} for impl, ms in (("torch", 0.2), ("vt native", 0.1), ("vt triton", 0.05), ("vt cute", 0.04))]}})
    # an older run without the cute backend is not the one drawn
    _write(root, "gpu/r/ks_old.json", {"provenance": dict(prov, time="2026-12-08T00:00:00+0000"), "results": {"rows": [
        {"family": "softmax", "shape": "33280x256", "dtype": "bfloat16", "pass": "fwd+bwd", "impl": "vt triton",
         "ms": 1.0, "vs_torch": 9.0}]}})
    _write(root, "gpu/s/c1/capture.json", {"provenance": prov, "results": [
        {"workload": "seq_reverse", "variant": v, "vs_torch_eager": r} for v, r in
        (("torch eager", 1.0), ("torch graph", 0.32), ("torch.compile", 0.4), ("vt tuned", 0.58), ("vt tuned+graph", 0.34))]
        # failures: a variant that failed, and a whole workload that failed (older files name no variant)
        + [{"workload": "seq_reverse", "variant": "vt vibe", "error": "cell died"},
           {"workload": "vit_cifar_noaug", "error": "'numpy.ndarray' object has no attribute 'clone'"}]})
    _write(root, "chain_backward_cpu/c.json", {"device": "cpu", "git_commit": "abc1234", "rows": [
        {"nodes": 10, "torch_us": 40.0, "tuned_us": 8.0}, {"nodes": 100, "torch_us": 400.0, "tuned_us": 60.0}]})


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_every_figure_is_drawn_with_its_numbers_and_sources(tmp_path):
    root, out = str(tmp_path / "results"), str(tmp_path / "figs")
    _results_tree(root)
    assert figures.main(["--results", root, "--out", out]) == 0
    for name in figures.FIGURES:
        with open(os.path.join(out, f"{name}.png"), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    (gap,) = _rows(os.path.join(out, "gap.csv"))
    assert (gap["workload"], float(gap["tuned"]), float(gap["vibe"]), float(gap["vibetensor_paper"])) == \
        ("seq_reverse", 0.5, 2.0, 2.1)
    (attr,) = _rows(os.path.join(out, "attribution.csv"))
    # gap 15 ms; scalars.cuda removal 9 ms, addition 7 ms -> share (0.6 + 0.4667) / 2
    assert abs(float(attr["scalars.cuda"]) - (9 / 15 + 7 / 15) / 2) < 1e-6
    (attr_suite,) = _rows(os.path.join(out, "attribution_suite.csv"))
    assert abs(float(attr_suite["scalars.cuda"]) - (9 / 15 + 7 / 15) / 2) < 1e-6 and float(attr_suite["gap_ms"]) == 15
    cont = _rows(os.path.join(out, "contention.csv"))
    assert [float(r["ratio"]) for r in cont] == [1.0, 400 / 150]
    (pc,) = _rows(os.path.join(out, "probe_cost.csv"))
    assert pc["variant"] == "b_probes_off" and float(pc["ratio"]) == 1.002
    (kb,) = _rows(os.path.join(out, "kernel_backends.csv"))
    assert kb["case"] == "softmax/33280x256"
    assert [round(float(kb[k]), 6) for k in ("native", "triton", "cute")] == [0.5, 0.25, 0.2]
    cap, failed = _rows(os.path.join(out, "capture.csv"))
    assert cap["workload"] == "seq_reverse" and float(cap["torch_graph"]) == 0.32 and float(cap["vt_tuned_graph"]) == 0.34
    assert cap["vt_vibe"] == "" and failed["workload"] == "vit_cifar_noaug" and failed["vt_tuned"] == ""
    readme = open(os.path.join(out, "README.md")).read()
    assert "`gpu/s/ks_cute.json`" in readme and "ks_old" not in readme
    assert "`h100/abc/h100.jsonl`" in readme and "abc1234" in readme and "not made" not in readme
    assert "`ablation_h100/abc/ablation.jsonl`" in readme and "ablation_h100.jsonl" not in readme
    assert "`ablation_h100_suite/abc/ablation.jsonl`" in readme and "ablation_h100_suite/old" not in readme


def test_missing_results_are_reported_and_fail_the_command(tmp_path, capsys):
    root, out = str(tmp_path / "results"), str(tmp_path / "figs")
    _results_tree(root)
    os.remove(os.path.join(root, "chain_backward_cpu", "c.json"))
    assert figures.main(["--results", root, "--out", out]) == 1
    assert "SKIPPED chain_backward: no results file matches chain_backward_cpu/*.json" in capsys.readouterr().out
    assert "not made" in open(os.path.join(out, "README.md")).read()
    assert os.path.exists(os.path.join(out, "gap.png")) and not os.path.exists(os.path.join(out, "chain_backward.png"))


def test_unknown_figure_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="unknown figure"):
        figures.main(["--results", str(tmp_path), "--out", str(tmp_path / "o"), "--only", "nope"])
