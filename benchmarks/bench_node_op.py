"""Per-op host cost from JavaScript (sync and async) against the same op from Python, in one run (issue 14;
Note [Node frontend] in csrc/node/addon.cpp): vt.add on two 4-element tensors.

    python benchmarks/bench_node_op.py [--rounds 5] [--calls 20000] [--device cpu] [--json PATH]

Method: each round runs the Python measurement (perf_counter_ns around `calls` calls) and then one node
process (benchmarks/node_op_cost.mjs, the addon built by `node node/build.js`) measuring, after its own
warm-up: vt.op('add', x, y) and x.add(y) (synchronous: the JS thread runs the op), `await opAsync` one at a
time (a Promise round trip through a libuv worker) and 32 async calls in flight (throughput). Each figure is
the median over rounds. The JS path reads arguments by the op's schema and takes the boxed dispatcher path;
Python's takes the op's typed handle (Note [One route from Python]).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess

import vibetensor as vt

from bench_plugin_op import per_call_ns

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def python_us(calls, device):
    x, y = vt.ones(4, device=device), vt.ones(4, device=device)
    per_call_ns(lambda: vt.add(x, y), 2000)  # warm-up
    return per_call_ns(lambda: vt.add(x, y), calls) / 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    node = shutil.which("node")
    if not node:
        raise SystemExit("bench_node_op: node is not installed")
    samples = {}
    for _ in range(a.rounds):
        samples.setdefault("python vt.add(x, y)", []).append(python_us(a.calls, a.device))
        r = subprocess.run([node, os.path.join(ROOT, "benchmarks", "node_op_cost.mjs"), str(a.calls), a.device],
                           capture_output=True, text=True, check=True)
        for k, v in json.loads(r.stdout.strip().splitlines()[-1]).items():
            samples.setdefault(k, []).append(v)
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"host cost per call of add on 4-element {a.device} tensors, median of {a.rounds} rounds (us):")
    for k, v in med.items():
        print(f"  {k:<32} {v:8.3f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"device": a.device, "rounds": a.rounds, "calls": a.calls, "us": med}, f, indent=2)


if __name__ == "__main__":
    main()
