"""The gap attribution of one-at-a-time ablations (experiments/attribution.py) on hand-made records."""
from vibetensor.experiments.attribution import attribute, format_attribution

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
    assert "host_syncs 200 vs 1" in by["scalars.cuda"]["removal_evidence"]
    text = format_attribution([rep])
    assert "explained by leave-one-out 80%" in text and "scalars.cuda" in text


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
    from vibetensor.experiments.attribution import probe_figures
    assert probe_figures(r) == {"name_lookups": 10.0, "host_syncs": 3.0, "wait_ms[autograd.gate.global]": 1.5}
