"""Traces training steps of a workload (default: one minigpt step on the GPU, tuned policies) with
vt.probes.trace and CUPTI, saves the Kineto-layout trace as <out>/rank-0.json (the name HTA reads),
and prints the per-step summary (host time per category, GPU busy time, kernels, idle gaps) and
the ops with the most host time.

    python scripts/trace_step.py [--workload minigpt] [--device cuda] [--steps 1] [--out trace_dir]

Then: python scripts/hta_check.py <out> (Holistic Trace Analysis on the same folder)."""
import argparse
import collections
import json
import os
import sys

import vibetensor as vt
import vibetensor.probes  # noqa: F401 (vt.probes)
from vibetensor.experiments.workloads import registry


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="minigpt")
    p.add_argument("--device", default="cuda" if vt.cuda.is_available() else "cpu")
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--preset", default="tuned")
    p.add_argument("--out", default="trace")
    a = p.parse_args()
    vt.policy.apply_preset(a.preset)
    wl = registry.build(a.workload, vt, a.device, {})
    for _ in range(a.warmup):
        wl.step(wl.next_batch())
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "rank-0.json")
    batches = [wl.next_batch() for _ in range(a.steps)]
    with vt.probes.trace(path, cupti=a.device.startswith("cuda")) as t:
        for b in batches:
            with vt.probes.annotate("step"):
                wl.step(b)
    summary = t.summary()
    print(f"{a.workload} on {a.device} ({a.preset}), {a.steps} traced step(s) -> {path}")
    print(summary.to_string(index=False))
    host = collections.Counter()
    count = collections.Counter()
    for b, e, name, cat, _ in t.cpu_events:
        if cat == "op":
            host[name] += e - b
            count[name] += 1
    print("\nops with the most host time (inclusive, all traced steps):")
    for name, ns in host.most_common(15):
        print(f"  {name:<36} {ns / 1e6:8.3f} ms  {count[name]:5d} calls")
    with open(os.path.join(a.out + "_summary.json"), "w") as f:  # beside the folder HTA reads
        json.dump({"workload": a.workload, "device": a.device, "preset": a.preset,
                   "steps": summary.to_dict(orient="records"),
                   "top_ops_host_ms": {n: ns / 1e6 for n, ns in host.most_common(30)}}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
