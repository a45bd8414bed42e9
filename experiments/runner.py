"""Runs one cell (workload x framework x policy set x device) and returns its result record."""
import importlib
import statistics
import time

from vibetensor.experiments import provenance
from vibetensor.experiments.workloads.registry import get_workload

FRAMEWORKS = ("vibetensor", "torch")


def import_framework(name: str):
    if name not in FRAMEWORKS:
        raise ValueError(f"unknown framework {name!r}: expected one of {list(FRAMEWORKS)}")
    return importlib.import_module(name)


def run_cell(workload: str, framework: str, device: str = "cpu", steps: int = 50, warmup: int = 3,
             policy: dict | None = None, on_step=None) -> dict:
    """Trains `steps` steps after `warmup` untimed ones. Every step's loss is read back (as the
    reference workloads do). Returns a record with per-step losses and times."""
    fw = import_framework(framework)
    applied = {}
    if framework == "vibetensor":
        spec = {"preset": "tuned", **(policy or {})}  # the preset first, then overrides
        fw.policy.apply_spec(",".join(f"{k}={v}" for k, v in spec.items()))
        applied = fw.policy.current()
    cls = get_workload(workload)
    started = provenance.now()
    wl = cls(fw, device=device)
    losses, times = [], []
    for i in range(warmup + steps):
        batch = wl.next_batch()
        t0 = time.perf_counter()
        loss = wl.step(batch)
        dt = time.perf_counter() - t0
        losses.append(loss)
        if i >= warmup:
            times.append(dt)
        if on_step:
            on_step(i)
    return {
        "workload": workload, **provenance.framework_info(framework, fw), **provenance.machine_info(device, framework, fw),
        **provenance.git_state(), "policy": applied, "seed": wl.cfg.seed, "steps": steps, "warmup": warmup,
        "data": getattr(wl, "data_source", "synthetic"), "losses": losses, "step_times_s": times,
        "median_step_ms": 1e3 * statistics.median(times), "started": started, "finished": provenance.now(),
    }


def loss_parity(a: list, b: list, n: int = 50, rtol: float = 1e-4) -> dict:
    """Compares the first n losses of two runs; reports the worst relative difference."""
    k = min(n, len(a), len(b))
    worst = max((abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a[:k], b[:k])), default=0.0)
    return {"steps_compared": k, "max_rel_diff": worst, "rtol": rtol, "ok": worst <= rtol}
