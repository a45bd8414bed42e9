"""vibetensor ablate (experiments/ablation.py): variants, process groups, and a tiny CPU run whose
records the attribution reads."""

import pytest

import vibetensor as vt
from vibetensor.experiments import ablation
from vibetensor.experiments.analysis import attribute, records as results


def test_variants_cover_every_differing_policy_both_ways():
    v = ablation.variants(vt)
    differing = [p for p in v["tuned"] if v["tuned"][p] != v["vibe"][p]]
    assert all(v["vibe"][p] == val for p, val in vt.policy.presets()["vibe"].items())
    assert len(differing) >= 10
    assert set(v) == {"tuned", "vibe"} | {f"vibe-{p}" for p in differing} | {f"tuned+{p}" for p in differing}
    for p in differing:
        assert v[f"vibe-{p}"] == {**v["vibe"], p: v["tuned"][p]}
        assert v[f"tuned+{p}"] == {**v["tuned"], p: v["vibe"][p]}


def test_groups_share_fixed_policies_and_put_vibe_and_tuned_first():
    v = ablation.variants(vt)
    fixed = ablation._fixed_policies(vt)
    assert "alloc.split" in fixed and "autograd.gate" not in fixed
    groups = ablation.plan(v, fixed)
    assert "vibe" in groups[0] and "tuned" in groups[1]
    assert sorted(n for g in groups for n in g) == sorted(v)
    for g in groups:
        assert len({tuple(v[n][p] for p in fixed) for n in g}) == 1
    # every runtime-switchable policy is ablated inside the vibe and the tuned process
    assert all(f"vibe-{p}" in groups[0] for p in v["vibe"] if p not in fixed and v["vibe"][p] != v["tuned"][p])


def test_tiny_cpu_ablation_records_feed_the_attribution(tmp_path, capsys):
    out = tmp_path / "ablation.jsonl"
    assert ablation.main(["mnist_mlp", "--device", "cpu", "--cycles", "2", "--block-steps", "1", "--warmup", "0",
                          "--probe-steps", "1", "--out", str(out)]) == 0
    recs = results.read(str(out))
    assert len(recs) == 2 * len(ablation.variants(vt))
    assert {r["method"] for r in recs} == {"in_process_blocks"} and {r["repeat"] for r in recs} == {0, 1}
    assert all(r["median_step_ms"] > 0 for r in recs)
    (rep,) = attribute(recs)
    assert rep["samples"] == 2 and rep["workload"] == "mnist_mlp" and len(rep["policies"]) >= 10
    lookups = next(r for r in recs if r["policy_set"] == "vibe")["probes"]["counters_per_step"]
    assert lookups.get("name_lookups", 0) > 0  # vibe's by-name dispatch, seen by the probe steps
    assert "explained" in capsys.readouterr().out


def test_a_suite_backed_variant_gets_the_suites_compilers(tmp_path):
    """The vibe preset selects a suite backend: its process must register the suite's compilers (the
    runner's cells do), or every family runs natively and the launch policies cost nothing."""
    pytest.importorskip("triton")
    from vibetensor.kernels import suite

    v = ablation.variants(vt)
    assert v["vibe"]["kernels.backend"] != "native"  # else this test has nothing to check
    suite.uninstall()
    try:
        ablation.run_group("mnist_mlp", "cpu", ["tuned"], 1, 1, 0, 0)
        assert not suite.installed("triton")  # tuned alone runs natively: nothing to register
        ablation.run_group("mnist_mlp", "cpu", ["vibe"], 1, 1, 0, 0)
        assert suite.installed("triton")
    finally:
        suite.install()


def test_unknown_workload_and_too_few_cycles_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown workload 'nope'"):
        ablation.main(["nope", "--out", str(tmp_path / "x.jsonl")])
    with pytest.raises(SystemExit, match="--cycles must be at least 2"):
        ablation.main(["mnist_mlp", "--cycles", "1", "--out", str(tmp_path / "x.jsonl")])
