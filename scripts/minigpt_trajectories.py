"""minigpt's loss trajectory on the CPU under one framework and precision: the evidence behind the
minigpt parity note of experiments/README.md (at the specified lr 1e-3 the first 50 steps pass
through loss spikes whose timing depends on rounding, so fp32 runs that differ only in rounding,
and fp64, part ways).

    python scripts/minigpt_trajectories.py --framework torch --dtype float64 --steps 22 --json t64.json
    python scripts/minigpt_trajectories.py --framework vibetensor --steps 22 --json vt.json
"""
import argparse
import json
import platform
import sys
import time
import os

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--framework", choices=["torch", "vibetensor"], default="torch")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="float64: torch only")
    p.add_argument("--steps", type=int, default=22)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: the framework's default)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--json", required=True)
    a = p.parse_args()
    if a.framework == "vibetensor":
        import vibetensor as fw
        if a.dtype != "float32":
            raise SystemExit("vibetensor runs minigpt in float32 only here; --dtype float64 is for torch")
        fw.policy.apply_preset("tuned")
    else:
        import torch as fw
    if a.threads:
        fw.set_num_threads(a.threads)
    from vibetensor.experiments.workloads import registry

    wl = registry.build("minigpt", fw, "cpu", {"lr": a.lr})
    if a.dtype == "float64":
        wl.model.to(fw.float64)  # parameters change in place: the optimizer keeps them
    losses = []
    for i in range(a.steps):
        t0 = time.time()
        losses.append(wl.step(wl.next_batch()))
        print(f"step {i} loss {losses[-1]:.6f} ({time.time() - t0:.1f} s)", flush=True)
    from vibetensor.experiments import provenance

    rec = {"workload": "minigpt", "framework": a.framework, "framework_version": fw.__version__, "dtype": a.dtype,
           "lr": a.lr, "device": "cpu", "threads": a.threads or None, "steps": a.steps, "losses": losses,
           "host": platform.node(), "finished": provenance.now(), **provenance.git_state()}
    with open(a.json, "w") as f:
        json.dump(rec, f, indent=1)


if __name__ == "__main__":
    main()
