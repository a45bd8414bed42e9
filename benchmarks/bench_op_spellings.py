"""Host cost of one op by spelling: `a + b`, `a.add(b)` and `vt.add(a, b)` beside torch's three
spellings, on 1-element CPU tensors (host cost dominates), under the tuned and the vibe preset.

Each preset runs in a child process of its own (allocator policies are fixed at first CUDA use).
Blocks of calls alternate between every (framework, spelling) pair in each round, so drift of the
machine (frequency, other processes) reaches every column alike; the figure is the median (or, with
--stat min, the least: the better estimate on a loaded machine) over rounds of the mean ns per call
in a block.

    python benchmarks/bench_op_spellings.py [--rounds N] [--block N] [--stat median|min] [--device cpu|cuda]
"""
import argparse
import statistics
import subprocess
import sys
import time

SPELLINGS = ("a + b", "a.add(b)", "add(a, b)")


def spelling_calls(mod, a, b):
    """The three spellings as zero-argument callables (closures, so each costs one Python call)."""
    add = mod.add
    return {
        "a + b": lambda: a + b,
        "a.add(b)": lambda: a.add(b),
        "add(a, b)": lambda: add(a, b),
    }


def block_ns(call, n: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(n):
        call()
    return (time.perf_counter_ns() - t0) / n


def measure(cases: dict, rounds: int, block: int, stat) -> dict:
    """cases: {key: callable}. Each round times one block of every case, in rotating order."""
    keys = list(cases)
    for k in keys:  # warm-up: caches, lazy imports, first-call paths
        block_ns(cases[k], block // 10 + 1)
    samples = {k: [] for k in keys}
    for r in range(rounds):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            samples[k].append(block_ns(cases[k], block))
    return {k: stat(v) for k, v in samples.items()}


def measure_preset(preset, args) -> None:
    """The rows of one preset, applied before any tensor exists: its allocator policies are fixed at
    first CUDA use, so each preset runs in a process of its own (see main)."""
    import torch
    import vibetensor as vt

    vt.policy.apply_preset(preset)
    ta, tb = torch.ones(1, device=args.device), torch.ones(1, device=args.device)
    va, vb = vt.ones(1, device=args.device), vt.ones(1, device=args.device)
    cases = {}
    for fw, calls in (("vt", spelling_calls(vt, va, vb)), ("torch", spelling_calls(torch, ta, tb))):
        for s, c in calls.items():
            cases[(fw, s)] = c
    ns = measure(cases, args.rounds, args.block, statistics.median if args.stat == "median" else min)
    for s in SPELLINGS:
        v, t = ns[("vt", s)], ns[("torch", s)]
        print(f"{preset:>6} {s:>10} {v:>11.0f} {t:>8.0f} {v / t:>8.2f}x", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--block", type=int, default=5000)
    p.add_argument("--stat", choices=("median", "min"), default="median")
    p.add_argument("--preset", default=None, help="measure this preset only, in this process")
    args = p.parse_args()
    if args.preset:
        return measure_preset(args.preset, args)

    import torch
    import vibetensor as vt

    print(f"one add on 1-element {args.device} tensors: ns per call, {args.stat} of {args.rounds} interleaved blocks of "
          f"{args.block}; torch {torch.__version__}, vibetensor {vt.__version__}")
    print(f"{'preset':>6} {'spelling':>10} {'vibetensor':>11} {'torch':>8} {'vt/torch':>9}", flush=True)
    for preset in ("tuned", "vibe"):
        subprocess.run([sys.executable, *sys.argv, "--preset", preset], check=True)


if __name__ == "__main__":
    main()
