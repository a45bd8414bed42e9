"""The contention experiment: N Python threads, each training its own small MLP, throughput
(steps/s over all threads) versus N under autograd.gate=global and per_graph, with the gate's lock
statistics. The GIL is released through backward (autograd.gil=released), so backward passes can
overlap unless the gate serializes them.

    python benchmarks/contention.py [--threads 1 2 4 8] [--steps 40] [--device cpu|cuda]
                                    [--intra-op-threads 1] [--dim 256] [--json PATH]

Each training thread sets its own CPU kernel team size (--intra-op-threads, default 1: N threads
then use N cores, the usual setting when threads train separate models); on cuda each thread
launches on a stream of its own, so the GPU work of different threads is not ordered.

On cuda each thread's model, data and optimizer live on the GPU; the timed region ends with a
device synchronize so queued kernels count. The gate's lock statistics are per lock, not per
thread: the wait per thread is the lock's total wait divided by N, and each thread's own wall
time inside backward() is reported beside it (its spread shows whether one thread starved).
"""
import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time

import vibetensor as vt
import vibetensor.probes  # noqa: F401 (vt.probes)


def train(steps: int, device: str, barrier: threading.Barrier, backward_s: list, slot: int,
          dim: int = 256, batch: int = 64, intra_op_threads: int = 1):
    vt.set_num_threads(intra_op_threads)  # this thread's OpenMP team
    if device.startswith("cuda"):
        with vt.cuda.Stream():
            _train(steps, device, barrier, backward_s, slot, dim, batch)
    else:
        _train(steps, device, barrier, backward_s, slot, dim, batch)


def _train(steps, device, barrier, backward_s, slot, dim, batch):
    model = vt.nn.Sequential(vt.nn.Linear(dim, 2 * dim), vt.nn.GELU(), vt.nn.Linear(2 * dim, dim)).to(device)
    opt = vt.optim.SGD(model.parameters(), lr=0.01)
    x = vt.randn(batch, dim, device=device)
    barrier.wait()
    spent = 0.0
    for _ in range(steps):
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        t0 = time.perf_counter()
        loss.backward()
        spent += time.perf_counter() - t0
        opt.step()
    backward_s[slot] = spent


def run(n_threads: int, gate: str, steps: int, device: str, dim: int = 256, intra_op_threads: int = 1) -> dict:
    with vt.policy.override(**{"autograd.gate": gate, "autograd.gil": "released", "probes.locks": "on"}):
        vt.probes.reset_locks()
        barrier = threading.Barrier(n_threads + 1)
        backward_s = [0.0] * n_threads
        ts = [threading.Thread(target=train, args=(steps, device, barrier, backward_s, i, dim, 64, intra_op_threads)) for i in range(n_threads)]
        for t in ts:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in ts:
            t.join()
        if device.startswith("cuda"):
            vt.cuda.synchronize()
        elapsed = time.perf_counter() - t0
        locks = vt.probes.locks()
    gate_row = locks[locks["name"] == f"autograd.gate.{gate}"]
    wait_ms = float(gate_row["wait_total_ns"].sum()) / 1e6 if len(gate_row) else 0.0
    contentions = int(gate_row["contentions"].sum()) if len(gate_row) else 0
    acquisitions = int(gate_row["acquisitions"].sum()) if len(gate_row) else 0
    return {"threads": n_threads, "gate": gate, "device": device, "steps_per_s": n_threads * steps / elapsed,
            "elapsed_s": elapsed, "gate_acquisitions": acquisitions, "gate_contentions": contentions,
            "gate_wait_ms": wait_ms, "gate_wait_ms_per_thread": wait_ms / n_threads,
            "backward_ms_per_thread": [s * 1e3 for s in backward_s]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--device", default="cpu")
    p.add_argument("--intra-op-threads", type=int, default=1, help="CPU kernel threads of each training thread")
    p.add_argument("--dim", type=int, default=256, help="MLP width (dim -> 2 dim -> dim)")
    p.add_argument("--json", help="write the rows, the per_graph/global ratios and provenance here")
    a = p.parse_args()
    if a.device.startswith("cuda") and not vt.cuda.is_available():
        raise SystemExit(f"--device {a.device}: no CUDA GPU is available")
    run(1, "per_graph", 3, a.device)  # warm-up: kernels loaded, allocator caches filled
    rows = [run(n, gate, a.steps, a.device, a.dim, a.intra_op_threads) for n in a.threads for gate in ("per_graph", "global")]
    print(f"{'threads':>7} {'gate':>10} {'steps/s':>9} {'gate wait ms':>13} {'per thread':>11} {'contentions':>12} "
          f"{'backward ms/thread (min..max)':>30}")
    for r in rows:
        bw = r["backward_ms_per_thread"]
        print(f"{r['threads']:>7} {r['gate']:>10} {r['steps_per_s']:>9.1f} {r['gate_wait_ms']:>13.1f} "
              f"{r['gate_wait_ms_per_thread']:>11.1f} {r['gate_contentions']:>12} {min(bw):>14.1f}..{max(bw):<14.1f}")
    by = {(r["threads"], r["gate"]): r["steps_per_s"] for r in rows}
    ratios = {n: by[(n, "per_graph")] / by[(n, "global")] for n in a.threads}
    for n, ratio in ratios.items():
        print(f"{n} threads: per_graph / global throughput = {ratio:.2f}x")
    if a.json:
        from vibetensor.experiments import provenance

        rec = {"benchmark": "contention", "device": a.device, "steps": a.steps, "dim": a.dim,
               "intra_op_threads": a.intra_op_threads, "cpu_count": os.cpu_count(), "rows": rows,
               "per_graph_over_global": {str(n): r for n, r in ratios.items()},
               "per_graph_over_global_at_4": ratios.get(4), "median_ratio": statistics.median(ratios.values()),
               "host": platform.node(), "python": sys.version.split()[0],
               "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **provenance.git_state()}
        if a.device.startswith("cuda"):
            rec["gpu"] = vt.cuda.get_device_name()
        with open(a.json, "w") as f:
            json.dump(rec, f, indent=1)


if __name__ == "__main__":
    main()
