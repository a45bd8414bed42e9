"""The gap attribution of one-at-a-time ablations (experiments/analysis/attribution.py) on hand-made records."""
from vibetensor.experiments.analysis import attribute, format_attribution

TUNED = {"dispatch.lookup": "handle", "alloc.lock": "per_device", "autograd.gate": "per_graph", "scalars.cuda": "kernel_arg", "probes.locks": "off"}
VIBE = {"dispatch.lookup": "locked_map", "alloc.lock": "global", "autograd.gate": "global", "scalars.cuda": "device_copy", "probes.locks": "off"}


def rec(policy_set, policy, ms, probes=None, workload="w"):
    return {"framework": "vibetensor", "workload": workload, "device": "cuda", "policy_set": policy_set,
            "policy": dict(policy), "median_step_ms": ms, "probes": {"counters_per_step": probes or {}}}


def test_shares_and_explained_fraction():
    records = [
        rec("tuned", TUNED, 10.0, {"host_syncs": 1}),  # (the runner records syncs apart; see probe_figures)
        rec("vibe", VIBE, 30.0, {"host_syncs": 200, "name_lookups": 500}),
        rec("vibe-scalars", {**VIBE, "scalars.cuda": "kernel_arg"}, 16.0, {"host_syncs": 1, "name_lookups": 500}),
        rec("vibe-lookup", {**VIBE, "dispatch.lookup": "handle"}, 28.0, {"host_syncs": 200, "name_lookups": 0}),
        rec("tuned+scalars", {**TUNED, "scalars.cuda": "device_copy"}, 22.0),
        {"framework": "torch", "workload": "w", "device": "cuda", "median_step_ms": 9.0},
    ]
    (rep,) = attribute(records)
    assert rep["gap_ms"] == 20.0
    by = {r["policy"]: r for r in rep["policies"]}
    assert by["scalars.cuda"]["removal_share"] == 14.0 / 20.0
    assert by["scalars.cuda"]["addition_share"] == 12.0 / 20.0
    assert by["dispatch.lookup"]["removal_share"] == 2.0 / 20.0
    assert "addition_share" not in by["dispatch.lookup"]
    assert abs(rep["explained_by_removal"] - 0.8) < 1e-12
    assert abs(by["scalars.cuda"]["share"] - 0.65) < 1e-12  # (removal + addition) / 2
    assert "share" not in by["dispatch.lookup"]  # only one direction measured: no pairwise share
    assert abs(rep["explained"] - 0.65) < 1e-12
    assert rep["samples"] == 1 and rep["ci95"] == {}
    assert "host_syncs 200 vs 1" in by["scalars.cuda"]["removal_evidence"]
    text = format_attribution([rep])
    assert "explained 65% (leave-one-out 80%, add-one 60%)" in text and "scalars.cuda" in text


def test_pairwise_interaction_is_split_evenly_and_samples_give_intervals():
    # f(S) = 10 + 4 [a] + 6 [b] + 4 [a and b]: the pairwise shares (Shapley values) sum to the gap.
    A = {**TUNED, "scalars.cuda": "device_copy"}
    B = {**TUNED, "dispatch.lookup": "locked_map"}
    AB = {**A, "dispatch.lookup": "locked_map", "alloc.lock": "global"}  # alloc.lock: a third policy, no effect
    G = {"alloc.lock": "global"}
    records = []
    for repeat, noise in enumerate((0.0, 0.3, -0.2, 0.1)):
        for name, pol, ms in (("tuned", TUNED, 10.0), ("vibe", AB, 24.0), ("vibe-a", {**B, **G}, 16.0), ("vibe-b", {**A, **G}, 14.0),
                              ("tuned+a", A, 14.0), ("tuned+b", B, 16.0)):
            r = rec(name, pol, ms + noise)
            r.update(repeat=repeat, invocation="i")
            records.append(r)
    (rep,) = attribute(records)
    by = {r["policy"]: r for r in rep["policies"]}
    assert rep["samples"] == 4
    assert abs(rep["explained"] - 1.0) < 1e-9 and rep["explained_by_removal"] > 1.0 > rep["explained_by_addition"]
    assert abs(by["scalars.cuda"]["share"] - 6.0 / 14.0) < 1e-9 and abs(by["dispatch.lookup"]["share"] - 8.0 / 14.0) < 1e-9
    lo, hi = rep["ci95"]["explained"]
    assert lo <= rep["explained"] <= hi and hi - lo < 0.2
    assert "4 sample(s)" in format_attribution([rep])


def test_cells_changing_two_policies_or_probes_only_are_not_attributed():
    records = [
        rec("tuned", TUNED, 10.0), rec("vibe", VIBE, 30.0),
        rec("two", {**VIBE, "scalars.cuda": "kernel_arg", "dispatch.lookup": "handle"}, 12.0),
        rec("probe", {**VIBE, "probes.locks": "on"}, 31.0),
    ]
    (rep,) = attribute(records)
    assert rep["policies"] == [] and rep["explained_by_removal"] == 0


def test_no_tuned_or_vibe_gives_a_message():
    assert attribute([rec("vibe", VIBE, 3.0)]) == []
    assert "no workload" in format_attribution([])


def test_probe_figures_flattens_a_runner_record():
    r = {"syncs_per_step_total": 3.0, "probes": {"counters_per_step": {"name_lookups": 10.0},
                                                  "top_lock_waits": [{"name": "autograd.gate.global", "wait_ms_per_step": 1.5}]}}
    from vibetensor.experiments.analysis import probe_figures
    assert probe_figures(r) == {"name_lookups": 10.0, "host_syncs": 3.0, "wait_ms[autograd.gate.global]": 1.5}


def test_compare_marks_results_from_several_commits(tmp_path, capsys):
    import json

    from vibetensor.experiments import cli

    paths = []
    for commit in ("aaaa", "bbbb"):
        r = rec("vibe", VIBE, 3.0)
        r.update(git_commit=commit)
        path = tmp_path / f"{commit}.jsonl"
        path.write_text(json.dumps(r) + "\n")
        paths.append(str(path))
    assert cli.main(["compare", *paths]) == 0
    out = capsys.readouterr().out
    assert "MIXED PROVENANCE" in out and "commits aaaa, bbbb" in out
    assert cli.main(["compare", paths[0]]) == 0
    assert "MIXED PROVENANCE" not in capsys.readouterr().out
