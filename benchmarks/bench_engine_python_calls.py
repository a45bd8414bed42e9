"""Host cost of a call into Python from the backward engine, by autograd.gil x autograd.workers, on the CPU
(Note [Engine threads and Python thread states] in csrc/python/thread_gil.h):

    python benchmarks/bench_engine_python_calls.py [--nodes 400] [--rounds 15]

Each sample is one backward through `nodes` products, each with a Python tensor hook, divided by
`nodes`: what a node that calls into Python (a hook, a custom Function, a kernel launched from Python)
costs on the thread that runs it. The policy pairs take turns in rounds; each reports the median.
Under autograd.gil=held a graph with Python nodes runs on the calling thread (Note [GIL during
backward]), so only the released rows put those calls on the engine's own threads.
"""
import argparse
import statistics
import time

import vibetensor as vt

POLICIES = [(gil, workers) for gil in ("released", "held") for workers in ("caller", "pool", "spawn")]


def one_backward(nodes: int) -> float:
    x = vt.ones([4], requires_grad=True)
    y = x
    for _ in range(nodes):
        y = y * 1.0
        y.register_hook(lambda g: None)
    loss = y.sum()
    t0 = time.perf_counter()
    loss.backward()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args()
    samples = {p: [] for p in POLICIES}
    for _ in range(a.rounds):
        for gil, workers in POLICIES:
            with vt.policy.override({"autograd.gil": gil, "autograd.workers": workers}):
                samples[(gil, workers)].append(1e6 * one_backward(a.nodes) / a.nodes)
    print(f"us per backward node with a Python hook ({a.nodes} nodes, median of {a.rounds} rounds)")
    for (gil, workers), us in samples.items():
        print(f"  autograd.gil={gil:8s} autograd.workers={workers:6s} {statistics.median(us):7.2f} us")


if __name__ == "__main__":
    main()
