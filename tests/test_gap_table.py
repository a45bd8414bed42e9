"""The gap table and its chart: ratios paired within a group of interleaved rounds, intervals over
rounds, at most 120 characters, legacy sequential pairs measured far apart marked."""
import random

import pytest

from vibetensor.experiments.analysis import gap_table as compare


def _rec(framework, ms, policy_set=None, group="g1", blocks=(5,) * 10, device="cuda", workload="seq_reverse",
         started="2026-12-05T10:00:00+00:00", seed=0, **extra):
    rng = random.Random(seed)
    times = [ms / 1e3 * (1 + 0.05 * rng.random()) for _ in range(sum(blocks))]
    rec = {"workload": workload, "framework": framework, "device": device, "policy_set": policy_set,
           "median_step_ms": ms, "step_times_s": times, "blocks": list(blocks), "losses": [1.0] * 10,
           "started": started, "method": "interleaved_rounds" if group else "sequential", **extra}
    if group:
        rec["group_id"] = group
    return rec


def test_rows_pair_within_a_group_only():
    recs = [_rec("torch", 10), _rec("vibetensor", 20, "vibe"),
            _rec("torch", 5, group="g2"), _rec("vibetensor", 6, "vibe", group="g2")]
    rows = compare.gap_rows(recs)
    assert [round(r["ratio"], 6) for r in rows] == [2.0, 1.2]


def test_interval_resamples_rounds_and_widens_with_load_changes():
    steady = compare.ratio_ci([1.0] * 50, [0.5] * 50, blocks_a=[5] * 10, blocks_b=[5] * 10)
    assert steady == (2.0, 2.0)
    # a load change between rounds that hits one cell's blocks and not the other's: a wide interval
    a = [1.0] * 25 + [3.0] * 25
    b = [0.5] * 50
    lo, hi = compare.ratio_ci(a, b, blocks_a=[5] * 10, blocks_b=[5] * 10)
    assert lo <= 2.0 and hi >= 6.0


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_table_is_at_most_120_columns_with_every_column(device):
    lock = {"top_lock_waits": [{"name": "autograd.gate.global_with_a_long_name", "wait_ms_per_step": 12.345}]}
    recs = [_rec("torch", 8.5, device=device, gpu_activity={"busy_fraction": 0.15, "busy_ms_per_step": 1.25},
                 median_augment_ms=4.0)]
    for name in ("tuned", "vibe", "tuned+dispatch.stack_copy", "vibe-autograd.workers"):
        recs.append(_rec("vibetensor", 21.0, name, device=device,
                         gpu_activity={"busy_fraction": 0.05, "busy_ms_per_step": 1.05},
                         syncs_per_step_total=12.0, probes=lock, median_augment_ms=4.2, workload="vit_cifar_noaug"))
        recs[-1]["workload"] = "seq_reverse"
    table = compare.format_table(compare.gap_rows(recs))
    assert max(len(line) for line in table.splitlines()) <= 120, table
    assert "vt/torch" in table and "vibetensor / PyTorch" in table
    assert "tuned+dis" in table and "~" in table  # a long policy set name is cut, marked with ~, only as far as needed
    assert ("busy vt/pt" in table) and "5%/15%" in table
    assert ("GPU ms vt/pt" in table) and "1.05/1.25" in table


def test_columns_with_nothing_to_show_are_left_out():
    table = compare.format_table(compare.gap_rows([_rec("torch", 2.0, device="cpu"),
                                                   _rec("vibetensor", 3.0, "vibe", device="cpu")]))
    head = table.splitlines()[1]
    for gone in ("busy", "aug ms", "syncs", "top lock", "device"):
        assert gone not in head
    assert table.splitlines()[0] == "gap table (cpu)"


def test_sequential_pairs_measured_far_apart_are_marked():
    recs = [_rec("torch", 10, group=None, invocation="i", started="2026-12-05T10:00:00+00:00"),
            _rec("vibetensor", 20, "vibe", group=None, invocation="i", started="2026-12-05T10:25:00+00:00")]
    rows = compare.gap_rows(recs)
    assert rows[0]["far_apart"]
    table = compare.format_table(rows)
    assert "2.00x*" in table and "not measured in the same window" in table and "measured as: sequential" in table
    recs[1]["started"] = "2026-12-05T10:01:00+00:00"
    assert not compare.gap_rows(recs)[0]["far_apart"]


def test_empty_results_say_so():
    assert "(no finished vibetensor cells)" in compare.format_table([])
