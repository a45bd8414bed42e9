"""The contention experiment: N Python threads, each training its own small MLP, throughput
(steps/s over all threads) versus N under autograd.gate=global and per_graph, with the gate's
lock statistics. The GIL is released through backward (autograd.gil=released), so backward
passes can overlap unless the gate serializes them.

    python benchmarks/contention.py [--threads 1 2 4] [--steps 40] [--device cpu]
"""
import argparse
import threading
import time

import vibetensor as vt


def train(steps: int, device: str, barrier: threading.Barrier, dim: int = 256, batch: int = 64):
    model = vt.nn.Sequential(vt.nn.Linear(dim, 2 * dim), vt.nn.GELU(), vt.nn.Linear(2 * dim, dim)).to(device)
    opt = vt.optim.SGD(model.parameters(), lr=0.01)
    x = vt.randn(batch, dim, device=device)
    barrier.wait()
    for _ in range(steps):
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def run(n_threads: int, gate: str, steps: int, device: str) -> dict:
    with vt.policy.override(**{"autograd.gate": gate, "autograd.gil": "released", "probes.locks": "on"}):
        vt.probes.reset_locks()
        barrier = threading.Barrier(n_threads + 1)
        ts = [threading.Thread(target=train, args=(steps, device, barrier)) for _ in range(n_threads)]
        for t in ts:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in ts:
            t.join()
        elapsed = time.perf_counter() - t0
        locks = vt.probes.locks()
    gate_row = locks[locks["name"] == f"autograd.gate.{gate}"]
    wait_ms = float(gate_row["wait_total_ns"].sum()) / 1e6 if len(gate_row) else 0.0
    contentions = int(gate_row["contentions"].sum()) if len(gate_row) else 0
    return {"threads": n_threads, "gate": gate, "steps_per_s": n_threads * steps / elapsed, "gate_wait_ms": wait_ms,
            "gate_contentions": contentions}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    rows = [run(n, gate, a.steps, a.device) for n in a.threads for gate in ("per_graph", "global")]
    print(f"{'threads':>7} {'gate':>10} {'steps/s':>9} {'gate wait ms':>13} {'contentions':>12}")
    for r in rows:
        print(f"{r['threads']:>7} {r['gate']:>10} {r['steps_per_s']:>9.1f} {r['gate_wait_ms']:>13.1f} {r['gate_contentions']:>12}")
    by = {(r["threads"], r["gate"]): r["steps_per_s"] for r in rows}
    for n in a.threads:
        print(f"{n} threads: per_graph / global throughput = {by[(n, 'per_graph')] / by[(n, 'global')]:.2f}x")


if __name__ == "__main__":
    main()
