"""CUDA matmul: vibetensor (cuBLAS) vs torch.matmul in one run, CUDA events, median after warm-up.

    python3 benchmarks/bench_matmul_cuda.py [--size 4096] [--reps 30] [--json PATH]

float32 with TF32 off in both (torch.backends.cuda.matmul.allow_tf32 = False), and bfloat16.
Prints TFLOP/s of each and the ratio vibetensor / torch of the times (lower is better).
"""
import argparse
import statistics

from _cuda_bench_util import require_gpu_or_exit, write_json


def time_ms(fn, reps, warmup, start_ev, end_ev, sync):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(reps):
        start_ev.record()
        fn()
        end_ev.record()
        end_ev.synchronize()
        times.append(start_ev.elapsed_time(end_ev))
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    vt = require_gpu_or_exit("bench_matmul_cuda")
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    vt.backends.cuda.matmul.allow_tf32 = False
    n = args.size
    flops = 2.0 * n * n * n
    results = []
    for name in ("float32", "bfloat16"):
        tdt = getattr(torch, name)
        ta, tb = torch.randn(n, n, device="cuda", dtype=tdt), torch.randn(n, n, device="cuda", dtype=tdt)
        va, vb = vt.from_dlpack(ta), vt.from_dlpack(tb)  # the same memory
        torch.testing.assert_close(torch.from_dlpack(vt.matmul(va, vb)), ta @ tb, rtol=2e-2, atol=2e-2 * n ** 0.5)
        t_ms = time_ms(lambda: ta @ tb, args.reps, args.warmup, torch.cuda.Event(enable_timing=True),
                       torch.cuda.Event(enable_timing=True), torch.cuda.synchronize)
        v_ms = time_ms(lambda: vt.matmul(va, vb), args.reps, args.warmup, vt.cuda.Event(enable_timing=True),
                       vt.cuda.Event(enable_timing=True), vt.cuda.synchronize)
        r = {"dtype": name, "m": n, "n": n, "k": n, "vt_ms": v_ms, "torch_ms": t_ms,
             "vt_tflops": flops / v_ms / 1e9, "torch_tflops": flops / t_ms / 1e9, "ratio_vt_over_torch": v_ms / t_ms}
        results.append(r)
        print(f"{name:9s} {n}x{n}x{n}: vibetensor {v_ms:8.3f} ms {r['vt_tflops']:7.1f} TFLOP/s | torch {t_ms:8.3f} ms "
              f"{r['torch_tflops']:7.1f} TFLOP/s | ratio {r['ratio_vt_over_torch']:.3f}")
    write_json(args.json, results)


if __name__ == "__main__":
    main()
