"""Chain-graph backward: the host cost of the autograd engine per node. A chain of N multiplications
of 1-element tensors is built, then its backward is timed (building the graph is not), for
vibetensor under the tuned preset, under vibe, and under tuned with each of vibe's engine policies
(autograd.gate, .gil, .workers, .routing) switched on alone, against PyTorch in the same run.

    python benchmarks/bench_chain_backward.py [--device cpu|cuda] [--nodes 10 100 1000] [--reps 30]
                                              [--json PATH]
"""
import argparse
import json
import statistics
import time

ENGINE_POLICIES = {"autograd.gate": "global", "autograd.gil": "held", "autograd.workers": "spawn",
                   "autograd.routing": "owner"}


def backward_us(lib, n: int, reps: int, device: str, sync) -> float:
    """Median time of one backward through an n-node chain, in microseconds."""
    times = []
    for _ in range(reps + 2):  # two warm-up rounds
        x = lib.ones(1, device=device, requires_grad=True)
        y = x
        for _ in range(n):
            y = y * 1.0001
        sync()
        t0 = time.perf_counter()
        y.backward()
        sync()
        times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times[2:])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--nodes", type=int, nargs="+", default=[10, 100, 1000])
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--json", help="write the rows with provenance here")
    a = p.parse_args()

    import torch
    import vibetensor as vt

    cuda = a.device.startswith("cuda")
    t_sync = torch.cuda.synchronize if cuda else (lambda: None)
    v_sync = vt.cuda.synchronize if cuda else (lambda: None)
    settings = {"tuned": {"preset": "tuned"}, "vibe": {"preset": "vibe"}}
    settings.update({f"tuned+{k}": {"preset": "tuned", k: v} for k, v in ENGINE_POLICIES.items()})
    rows = []
    for n in a.nodes:
        row = {"nodes": n, "torch_us": backward_us(torch, n, a.reps, a.device, t_sync)}
        for name, spec in settings.items():
            with vt.policy.override(spec):
                row[f"{name}_us"] = backward_us(vt, n, a.reps, a.device, v_sync)
        rows.append(row)
    names = ["torch"] + list(settings)
    print(f"backward through a chain of N multiplications, 1-element {a.device} tensors (median us; per node in brackets)")
    print(f"{'N':>6} " + " ".join(f"{nm:>24}" for nm in names))
    for r in rows:
        cells = [f"{r[f'{nm}_us']:9.1f} [{r[f'{nm}_us'] / r['nodes']:6.2f}]" for nm in names]
        print(f"{r['nodes']:>6} " + " ".join(f"{c:>24}" for c in cells))
    if a.json:
        from vibetensor.experiments import provenance

        with open(a.json, "w") as f:
            json.dump({"benchmark": "bench_chain_backward", "device": a.device, "reps": a.reps, "rows": rows,
                       "torch_version": torch.__version__, **provenance.git_state(),
                       **provenance.machine_info(a.device, "vibetensor", vt),
                       "finished": provenance.now()}, f, indent=1)


if __name__ == "__main__":
    main()
