"""CUDA allocator throughput: alloc/free pairs per second, vibetensor's alloc.cuda strategies vs
torch's caching allocator. Each vibetensor strategy runs in its own subprocess (alloc.cuda is
fixed at the first CUDA allocation).

    python3 benchmarks/bench_allocator_cuda.py [--iters 20000] [--json PATH]

Scenarios: same_size (1 MiB, allocate then drop), mixed_sizes (512 B .. 64 MiB cycling), and
cross_stream (allocate on a side stream, record_stream on the default one, drop).
Prints pairs/s and the ratio to torch (higher is better).
"""
import argparse
import json
import os
import subprocess
import sys
import time

from _cuda_bench_util import require_gpu_or_exit, write_json

SIZES_MIXED = [512, 4096, 65536, 1 << 20, 3 << 20, 12 << 20, 64 << 20]
SCENARIOS = ("same_size", "mixed_sizes", "cross_stream")


def run_scenario(lib, scenario, iters):
    """pairs/s of `scenario` with lib = vibetensor or torch (same API for what is used here)."""
    cuda = lib.cuda

    def empty(nbytes):  # float32 elements: vibetensor has no uint8
        return lib.empty(max(nbytes // 4, 1), dtype=lib.float32, device="cuda")

    def record(t, s):
        if hasattr(t, "record_stream"):
            t.record_stream(s)
        else:
            cuda.record_stream(t, s)
    side = cuda.Stream()

    def once(i):
        if scenario == "same_size":
            t = empty(1 << 20)
        elif scenario == "mixed_sizes":
            t = empty(SIZES_MIXED[i % len(SIZES_MIXED)])
        else:
            with cuda.stream(side):
                t = empty(1 << 20)
            record(t, cuda.current_stream())
        del t

    for i in range(200):
        once(i)
    cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(iters):
        once(i)
    cuda.synchronize()
    return iters / (time.perf_counter() - t0)


def child(strategy, iters):
    os.environ["VT_POLICY"] = f"alloc.cuda={strategy}"
    vt = require_gpu_or_exit("bench_allocator_cuda")
    assert vt.cuda.get_allocator_backend() in (strategy, "caching")  # fixed at first use below
    out = {s: run_scenario(vt, s, iters) for s in SCENARIOS}
    assert vt.cuda.get_allocator_backend() == strategy
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iters", type=int, default=20000)
    p.add_argument("--json", default=None)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.iters)
        return
    require_gpu_or_exit("bench_allocator_cuda")
    import torch

    results = {"torch": {s: run_scenario(torch, s, args.iters) for s in SCENARIOS}}
    for strategy in ("caching", "async", "direct"):
        iters = args.iters if strategy != "direct" else max(args.iters // 20, 200)  # cudaFree syncs: slow
        out = subprocess.run([sys.executable, __file__, "--child", strategy, "--iters", str(iters)],
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            print(f"{strategy}: failed\n{out.stderr}")
            continue
        results[f"vt_{strategy}"] = json.loads(out.stdout.strip().splitlines()[-1])
    for s in SCENARIOS:
        base = results["torch"][s]
        line = f"{s:13s} torch {base:12,.0f}/s"
        for k in ("vt_caching", "vt_async", "vt_direct"):
            if k in results:
                line += f" | {k} {results[k][s]:12,.0f}/s ({results[k][s] / base:.2f}x)"
        print(line)
    write_json(args.json, results)


if __name__ == "__main__":
    main()
