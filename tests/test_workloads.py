"""Every workload trains a few steps on vibetensor and on PyTorch from identical weights and
batches with matching losses (reduced sizes through workload options), and the runner records
the probe columns with the probes off during the timed steps."""
import numpy as np
import pytest

import vibetensor as vt
from vibetensor.experiments import config as config_mod
from vibetensor.experiments.analysis import gap_table as compare
from vibetensor.experiments.runner import run_cell
from vibetensor.experiments.workloads import registry

torch = pytest.importorskip("torch")

SMALL = {
    "seq_reverse": {"dim": 32, "heads": 2, "layers": 1, "batch": 8},
    "vit_cifar": {"dim": 32, "depth": 1, "heads": 4, "mlp": 64, "batch": 16, "cls_tokens": 4, "synthetic_size": 200,
                  "schedule_steps": 4},
    "vit_cifar_noaug": {"dim": 32, "depth": 1, "heads": 4, "mlp": 64, "batch": 16, "cls_tokens": 4,
                        "synthetic_size": 200},
    "minigpt": {"vocab": 384, "dim": 32, "heads": 4, "layers": 2, "seq": 32, "batch": 4, "synthetic_bytes": 30000},
    "mnist_mlp": {"hidden": 32, "batch": 32, "synthetic_size": 500},
    "mnist_mlp_manual": {"hidden": 32, "batch": 32, "synthetic_size": 500},
    "seq_reverse_sweep": {"dim": 32, "heads": 2, "layers": 1, "batch": 8, "replicas": 2},
}
STEPS = 3


def train(name, fw, options, steps=STEPS):
    wl = registry.build(name, fw, "cpu", options)
    out = []
    assert getattr(wl, "augments", False) == (name == "vit_cifar")
    try:
        for _ in range(steps):
            batch = wl.next_batch()
            if getattr(wl, "augments", False):
                batch = wl.augment_batch(batch)
            out.append(wl.step(batch))
    finally:
        registry.close(wl)  # seq_reverse_sweep's threads
    return wl, out


@pytest.mark.parametrize("name", sorted(registry.WORKLOADS))
def test_losses_match_pytorch(name, tmp_path):
    opts = dict(SMALL[name])
    if name == "minigpt":
        opts["cache_dir"] = str(tmp_path)
    vwl, vt_losses = train(name, vt, opts)
    twl, torch_losses = train(name, torch, opts)
    np.testing.assert_allclose(vt_losses, torch_losses, rtol=1e-4)
    assert all(np.isfinite(vt_losses))
    assert vwl.data_source == twl.data_source == "synthetic"
    if name in ("minigpt", "mnist_mlp"):
        assert vt_losses[-1] < vt_losses[0], "training makes progress on a repeated distribution"


def test_mnist_manual_gradients_match_autograd():
    _, auto = train("mnist_mlp", vt, SMALL["mnist_mlp"], steps=5)
    _, manual = train("mnist_mlp_manual", vt, SMALL["mnist_mlp_manual"], steps=5)
    np.testing.assert_allclose(manual, auto, rtol=1e-5)


def test_vit_augment_option_and_defaults():
    on = registry.make_config("vit_cifar", {})
    assert (on.batch, on.dim, on.depth, on.heads, on.mlp, on.cls_tokens, on.lr, on.betas, on.seed) == \
        (256, 256, 6, 8, 1024, 16, 3e-4, (0.9, 0.999), 42) and on.augment
    assert not registry.make_config("vit_cifar_noaug", {}).augment
    g = registry.make_config("minigpt", {})
    assert (g.vocab, g.seq, g.dim, g.heads, g.layers, g.batch, g.betas, g.weight_decay, g.clip_norm) == \
        (4096, 128, 256, 8, 6, 64, (0.9, 0.95), 0.1, 1.0)


def test_minigpt_decays_matrices_only(tmp_path):
    wl = registry.build("minigpt", vt, "cpu", {**SMALL["minigpt"], "cache_dir": str(tmp_path)})
    decay, no_decay = wl.opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decay["params"]) and all(p.dim() == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(wl.model.parameters()))


def test_workload_options_from_config(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[run]\nworkloads = ["vit_cifar", "vit_cifar_noaug"]\ndevice = "cpu"\n'
                   '[workload_options.vit_cifar]\ndepth = 2\nsynthetic_size = 100\n'
                   '[workload_options.vit_cifar_noaug]\nheads = 4\n')
    c = config_mod.load(str(cfg))
    assert c.options_for("vit_cifar") == {"depth": 2, "synthetic_size": 100}
    assert c.options_for("vit_cifar_noaug") == {"depth": 2, "synthetic_size": 100, "augment": False, "heads": 4}
    for body, message in [
        ('[workload_options.vit_cifar]\ndepht = 2\n', "unknown option 'depht' for workload 'vit_cifar'"),
        ('[workload_options.vit_cifar]\naugment = "yes"\n', "must be true or false"),
        ('[workload_options.vit_cifar]\ndepth = "six"\n', "must be a number"),
        ('[workload_options.nope]\nx = 1\n', "unknown workload 'nope'"),
        ('[workload_option]\n', "unknown section 'workload_option'"),
    ]:
        cfg.write_text('[run]\nworkloads = ["vit_cifar"]\ndevice = "cpu"\n' + body)
        with pytest.raises(ValueError, match=message):
            config_mod.load(str(cfg))


def test_missing_cifar_folder_is_reported_by_the_workload(tmp_path):
    with pytest.raises(FileNotFoundError, match="CIFAR-10 folder"):
        registry.build("vit_cifar", vt, "cpu", {**SMALL["vit_cifar"], "data_dir": str(tmp_path / "none")})


def test_run_cell_records_probe_columns_with_probes_off_while_timed():
    seen = []

    def during_step(i):  # the probe policies as the timed steps saw them
        seen.append((vt.policy.get("probes.counters"), vt.policy.get("probes.locks")))

    rec = run_cell("vit_cifar", "vibetensor", "cpu", steps=2, warmup=1, policy={"preset": "vibe"},
                   on_step=during_step, options=SMALL["vit_cifar"], probe_steps=2)
    assert seen == [("off", "off")] * 3
    assert vt.policy.get("probes.counters") == "off"  # restored after the probe steps
    assert len(rec["augment_times_s"]) == 2 and 0 < rec["median_augment_ms"] < rec["median_step_ms"]
    assert rec["median_step_ms_without_augment"] < rec["median_step_ms"]
    assert rec["workload_config"]["schedule_steps"] == 4  # cosine over the steps the cell trains
    per_step = rec["probes"]["counters_per_step"]
    assert per_step["ops_dispatched"] > 50 and per_step["name_lookups"] == per_step["ops_dispatched"]  # locked_map
    assert per_step["threads_created"] >= 1 and per_step["backward_calls"] == 1  # autograd.workers=spawn
    names = [lk["name"] for lk in rec["probes"]["top_lock_waits"]]
    assert "dispatcher.registry" in names or "autograd.gate.global" in names
    assert rec["gpu_activity"] == {"busy_fraction": None, "reason": "device cpu is not a GPU"}
    if vt.cuda.is_built():
        assert rec["syncs_per_step"] == {} and rec["syncs_per_step_total"] == 0  # no GPU work on the CPU

    twin = run_cell("vit_cifar", "torch", "cpu", steps=2, warmup=1, options=SMALL["vit_cifar"])
    assert twin["probes"]["steps"] == 0 and twin["syncs_per_step"] is None
    np.testing.assert_allclose(rec["losses"], twin["losses"], rtol=1e-4)
    rec.update(policy_set="vibe")
    table = compare.format_table(compare.gap_rows([rec, twin]))
    assert "aug ms" in table and "vt/torch" in table
    assert "busy vt/pt" not in table  # nothing to show on the CPU: the column is left out
    assert ("syncs" in table) == vt.cuda.is_built()
    row = table.splitlines()[3]
    assert "vit_cifar" in row and "vibe" in row and ("dispatcher.registry" in row or "autograd.gate" in row)
    assert " ok " in row and "measured as: single_block" in table
