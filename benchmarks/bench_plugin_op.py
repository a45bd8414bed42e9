"""Host cost of a plugin op against the same op built in, from Python (Note [Plugin ops] in
csrc/plugin/loader.h): the example plugin's myplug::add and myplug::scale (examples/plugin, built here
with the system compiler) against vt.add / vt.mul on the same tiny tensors, torch beside them.

    python benchmarks/bench_plugin_op.py [--rounds 7] [--calls 20000] [--device cpu|cuda] [--json PATH]

Method: per round, each variant runs `calls` back-to-back calls (timed with perf_counter_ns, the
result discarded); the variants are interleaved within every round and each reports its median
per-call time over rounds. 4-element float32 tensors, so the time is host time: argument parsing,
dispatch, result allocation and the kernel call. The plugin's path is the boxed one (schema-driven
argument reading onto a Stack, Dispatcher::call_boxed, DLPack views, host-allocated results); the
built-in op's is its typed handle (Note [One route from Python]).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "examples", "plugin"))
import vibetensor as vt  # noqa: E402

import build as example_build  # noqa: E402


def per_call_ns(fn, calls):
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    cuda = a.device == "cuda"
    with tempfile.TemporaryDirectory() as tmp:
        vt.ops.load_library(example_build.build(tmp, cuda=cuda))
    try:
        import torch
    except ImportError:
        torch = None
    x, y = vt.ones(4, device=a.device), vt.ones(4, device=a.device)
    my = vt.ops.myplug
    variants = {
        "plugin myplug.add(x, y)": lambda: my.add(x, y),
        "built-in vt.add(x, y)": lambda: vt.add(x, y),
        "plugin myplug.scale(x, 2.0)": lambda: my.scale(x, 2.0),
        "built-in vt.mul(x, 2.0)": lambda: vt.mul(x, 2.0),
    }
    if torch is not None:
        tx, ty = torch.ones(4, device=a.device), torch.ones(4, device=a.device)
        variants["torch.add(x, y)"] = lambda: torch.add(tx, ty)
    for fn in variants.values():  # warm-up
        per_call_ns(fn, 1000)
    samples = {k: [] for k in variants}
    for _ in range(a.rounds):
        for k, fn in variants.items():
            samples[k].append(per_call_ns(fn, a.calls))
        if cuda:
            vt.cuda.synchronize()
    med = {k: statistics.median(v) / 1000 for k, v in samples.items()}
    print(f"host cost per call, {a.device}, median of {a.rounds} rounds of {a.calls} calls (us):")
    for k, us in med.items():
        print(f"  {k:<30} {us:7.3f}")
    extra = {"add": med["plugin myplug.add(x, y)"] - med["built-in vt.add(x, y)"],
             "scale": med["plugin myplug.scale(x, 2.0)"] - med["built-in vt.mul(x, 2.0)"]}
    print(f"plugin - built-in: add {extra['add']:+.3f} us, scale {extra['scale']:+.3f} us (target: at most +0.5 us)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"device": a.device, "rounds": a.rounds, "calls": a.calls, "us": med, "extra_us": extra}, f,
                      indent=2)


if __name__ == "__main__":
    main()
