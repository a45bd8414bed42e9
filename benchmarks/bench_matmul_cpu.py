"""CPU matmul: vibetensor vs torch in one run (median of many reps after warm-up).

    python3 benchmarks/bench_matmul_cpu.py [--reps 50] [--sizes 512 ...]

Prints each shape's median time for both and the ratio vibetensor / torch (lower is better;
the target for fp32 512x512x512 is <= 1.5).
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # the in-tree build
import vibetensor  # noqa: E402,F401  (loads BLAS before _C)
from vibetensor import _C  # noqa: E402


def median_seconds(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(label, ta, tb, reps, warmup, transpose_b=False):
    a = _C._from_dlpack_capsule(ta.__dlpack__())
    b = _C._from_dlpack_capsule(tb.__dlpack__())
    if transpose_b:  # the backward-style operand: a transposed view, no copy
        b, tb = _C._ops.transpose(b, -1, -2), tb.transpose(-1, -2)
    np.testing.assert_allclose(torch.from_dlpack(_C._ops.matmul(a, b)).numpy(), torch.matmul(ta, tb).numpy(),
                               rtol=1e-3, atol=1e-3)
    t_vt = median_seconds(lambda: _C._ops.matmul(a, b), reps, warmup)
    t_th = median_seconds(lambda: torch.matmul(ta, tb), reps, warmup)
    print(f"{label:34s} vibetensor {t_vt * 1e3:8.3f} ms   torch {t_th * 1e3:8.3f} ms   ratio {t_vt / t_th:5.2f}")
    return t_vt / t_th


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--sizes", type=int, nargs="*", default=[128, 512, 1024])
    args = p.parse_args()
    print(f"torch {torch.__version__}, torch threads {torch.get_num_threads()}")
    torch.manual_seed(0)
    ratios = {}
    for n in args.sizes:
        ta, tb = torch.randn(n, n), torch.randn(n, n)
        ratios[n] = bench(f"fp32 {n}x{n}x{n}", ta, tb, args.reps, args.warmup)
        bench(f"fp32 {n}x{n}x{n} (B transposed)", ta, tb, args.reps, args.warmup, transpose_b=True)
    bench("fp32 batched 64x(32x32)@(32x32)", torch.randn(64, 32, 32), torch.randn(64, 32, 32), args.reps, args.warmup)
    bench("fp32 (8,128,256)@(256,256)", torch.randn(8, 128, 256), torch.randn(256, 256), args.reps, args.warmup)
    bench("fp64 256x256x256", torch.randn(256, 256, dtype=torch.float64), torch.randn(256, 256, dtype=torch.float64),
          args.reps, args.warmup)
    if 512 in ratios:
        print(f"fp32 512x512x512 ratio vibetensor/torch: {ratios[512]:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
