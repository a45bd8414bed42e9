"""seq_reverse_sweep (Note [Concurrent sweep]): K replicas trained by K threads match PyTorch and
the K seq_reverse runs they are made of, every step runs on all K threads at once, and no thread
outlives the workload; ReplicaThreads' errors and shutdown."""
import threading

import numpy as np
import pytest

import vibetensor as vt
from vibetensor.experiments.runner import run_cell
from vibetensor.experiments.workloads import registry
from vibetensor.experiments.workloads.replica_threads import ReplicaThreads

torch = pytest.importorskip("torch")

SMALL = {"dim": 32, "heads": 2, "layers": 1, "batch": 8, "replicas": 3}
PREFIX = "seq_reverse_sweep-replica-"
STEPS = 3


def replica_threads_alive() -> list:
    return [t.name for t in threading.enumerate() if t.name.startswith(PREFIX)]


def train(fw, steps=STEPS, options=SMALL, device="cpu"):
    """(losses, thread names seen inside each replica step, spans per step, steps done)."""
    wl = registry.build("seq_reverse_sweep", fw, device, options)
    seen, spans = [], []
    try:
        for r in wl.replicas:  # record which thread runs each replica's step
            inner = r.step
            r.step = lambda batch, inner=inner: (seen.append(threading.current_thread().name), inner(batch))[1]
        losses = []
        for _ in range(steps):
            losses.append(wl.step(wl.next_batch()))
            spans.append(list(wl.threads.spans))
        assert len(replica_threads_alive()) == options["replicas"]
        done = list(wl.threads.steps_done)
    finally:
        wl.close()
    assert replica_threads_alive() == [], "close() joins every replica thread"
    return losses, seen, spans, done


@pytest.mark.parametrize("preset", ["tuned", "vibe"])
def test_sweep_matches_pytorch_and_runs_every_replica_on_its_own_thread(preset, device):
    with vt.policy.override(preset=preset):
        vt_losses, seen, spans, done = train(vt, device=device)
    torch_device = device if device == "cpu" or torch.cuda.is_available() else "cpu"  # a CPU-only torch: the reference
    torch_losses, torch_seen, _, _ = train(torch, device=torch_device)
    np.testing.assert_allclose(vt_losses, torch_losses, rtol=1e-4)
    k = SMALL["replicas"]
    assert done == [STEPS] * k
    for s in range(STEPS):  # each step: replica i on thread i, all K inside the step at one moment
        assert sorted(seen[s * k:(s + 1) * k]) == [f"{PREFIX}{i}" for i in range(k)]
        entered, finished = zip(*spans[s])
        assert max(entered) < min(finished), "every replica entered the step before any finished it"
    assert sorted(torch_seen) == sorted(seen)


def test_sweep_loss_is_the_mean_of_its_seq_reverse_replicas():
    losses, *_ = train(vt, steps=2)
    k, base = SMALL["replicas"], {n: v for n, v in SMALL.items() if n != "replicas"}
    cfg = registry.make_config("seq_reverse_sweep", SMALL)
    singles = []
    for i in range(k):  # replica i: seed + i, lr * (i + 1) / K, trained alone
        wl = registry.build("seq_reverse", vt, "cpu", {**base, "seed": cfg.seed + i, "lr": cfg.lr * (i + 1) / k})
        singles.append([wl.step(wl.next_batch()) for _ in range(2)])
    np.testing.assert_allclose(losses, np.mean(singles, axis=0), rtol=1e-6)
    assert len({tuple(s) for s in singles}) == k, "the replicas differ (seeds and learning rates)"


def test_run_cell_closes_the_sweep_threads():
    rec = run_cell("seq_reverse_sweep", "vibetensor", "cpu", steps=2, warmup=1, policy={"preset": "vibe"},
                   options=SMALL, probe_steps=1)
    assert replica_threads_alive() == []
    assert rec["workload_config"]["replicas"] == SMALL["replicas"] and len(rec["losses"]) == 3
    counters = rec["probes"]["counters_per_step"]
    assert counters["backward_calls"] == SMALL["replicas"]  # one backward per replica thread per step


def test_replica_threads_raise_a_replica_error_and_stay_usable():
    def work(i, x):
        if x == "fail" and i == 1:
            raise ValueError(f"replica {i} failed")
        return (i, threading.current_thread().name)

    rt = ReplicaThreads(3, work, name="rt-test")
    try:
        assert rt.run([0, 0, 0]) == [(i, f"rt-test-{i}") for i in range(3)]
        with pytest.raises(ValueError, match="replica 1 failed"):
            rt.run(["fail"] * 3)
        assert [r[0] for r in rt.run([0, 0, 0])] == [0, 1, 2]  # no stale result of the failed step
        with pytest.raises(ValueError, match="expected 3 arguments"):
            rt.run([0])
    finally:
        rt.close()
    rt.close()  # idempotent
    assert not any(t.is_alive() for t in rt.threads)
    with pytest.raises(RuntimeError, match="closed"):
        rt.run([0, 0, 0])


def test_replica_threads_report_a_failed_setup():
    def setup(i):
        if i == 0:
            raise RuntimeError("no team")

    rt = ReplicaThreads(2, lambda i, x: x, setup=setup)
    try:
        with pytest.raises(RuntimeError, match="no team"):
            rt.run([1, 2])
    finally:
        rt.close()
