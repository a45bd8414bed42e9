"""Memory bandwidth of vibetensor's CUDA kernels against PyTorch, in one run: device-to-device copy,
elementwise add / mul / relu, a full sum, a last-dim sum and a last-dim softmax on 64M-element
float32 tensors. Prints GB/s (bytes read + written per call / time), each as a fraction of the
measured copy bandwidth, and vibetensor's time over torch's.

    python benchmarks/bench_bandwidth_cuda.py [--iters N] [--warmup N] [--json PATH]

Times are medians over N calls of CUDA-event pairs (vt.cuda.Event / torch.cuda.Event) on each
library's current stream, after warm-up.
"""
import argparse
import datetime
import json
import statistics
import subprocess
import sys
from pathlib import Path

N = 64 * 1024 * 1024
ROWS = COLS = 8192  # 64M elements as a matrix
F32 = 4


def median_ms(fn, event_cls, sync, iters, warmup, batch=5):
    """Median GPU time of one call: each sample times `batch` back-to-back calls between two events,
    so the stream stays busy and the host's launch latency (measured by bench_op_overhead.py) is
    not counted as kernel time."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(iters):
        start, end = event_cls(enable_timing=True), event_cls(enable_timing=True)
        start.record()
        for _ in range(batch):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / batch)
    return statistics.median(times)


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--json", type=Path, default=None, help="write the results with provenance to this file")
    args = p.parse_args()

    import torch
    import vibetensor as vt

    if not vt.cuda.is_available() or not torch.cuda.is_available():
        print("bench_bandwidth_cuda: no CUDA GPU available (vibetensor: %s, torch: %s); nothing to measure"
              % (vt.cuda.is_available(), torch.cuda.is_available()))
        return 0

    tx = torch.randn(N, device="cuda")
    ty = torch.randn(N, device="cuda")
    tout = torch.empty(N, device="cuda")
    vx = vt.from_dlpack(tx.clone())
    vy = vt.from_dlpack(ty.clone())
    vout = vt.from_dlpack(tout.clone())
    tm, vm = tx.view(ROWS, COLS), vx.view(ROWS, COLS)
    torch.cuda.synchronize()

    # name: (vibetensor fn, torch fn, bytes moved per call)
    cases = {
        "copy_": (lambda: vout.copy_(vx), lambda: tout.copy_(tx), 2 * N * F32),
        "clone": (lambda: vx.clone(), lambda: tx.clone(), 2 * N * F32),
        "add": (lambda: vx + vy, lambda: tx + ty, 3 * N * F32),
        "mul": (lambda: vx * vy, lambda: tx * ty, 3 * N * F32),
        "relu": (lambda: vx.relu(), lambda: tx.relu(), 2 * N * F32),
        "sum (full)": (lambda: vx.sum(), lambda: tx.sum(), N * F32 + F32),
        "sum (last dim, 8192x8192)": (lambda: vm.sum(-1), lambda: tm.sum(-1), (N + ROWS) * F32),
        "softmax (last dim, 8192x8192)": (lambda: vm.softmax(-1), lambda: tm.softmax(-1), 2 * N * F32),
    }
    rows = []
    for name, (vfn, tfn, nbytes) in cases.items():
        v_ms = median_ms(vfn, vt.cuda.Event, vt.cuda.synchronize, args.iters, args.warmup)
        t_ms = median_ms(tfn, torch.cuda.Event, torch.cuda.synchronize, args.iters, args.warmup)
        rows.append({"op": name, "bytes": nbytes, "vt_ms": v_ms, "torch_ms": t_ms,
                     "vt_gbps": nbytes / v_ms / 1e6, "torch_gbps": nbytes / t_ms / 1e6})
    copy_gbps = {"vt": rows[0]["vt_gbps"], "torch": rows[0]["torch_gbps"]}
    ref = max(copy_gbps.values())  # the device's copy bandwidth: the better of the two measurements
    for r in rows:
        r["vt_frac_of_copy"] = r["vt_gbps"] / ref
        r["torch_frac_of_copy"] = r["torch_gbps"] / ref
        r["vt_over_torch_time"] = r["vt_ms"] / r["torch_ms"]

    device = torch.cuda.get_device_name()
    print(f"{device}; {N} float32 elements; median of {args.iters} samples of 5 back-to-back calls after {args.warmup} warm-up; "
          f"copy bandwidth {ref:.0f} GB/s (vt copy_ {copy_gbps['vt']:.0f}, torch copy_ {copy_gbps['torch']:.0f})")
    print(f"{'op':<31} {'vt GB/s':>8} {'of copy':>8} {'torch GB/s':>11} {'of copy':>8} {'vt/torch time':>14}")
    for r in rows:
        print(f"{r['op']:<31} {r['vt_gbps']:>8.0f} {r['vt_frac_of_copy']:>7.1%} {r['torch_gbps']:>11.0f} "
              f"{r['torch_frac_of_copy']:>7.1%} {r['vt_over_torch_time']:>13.2f}x")

    if args.json:
        record = {
            "benchmark": "bench_bandwidth_cuda",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "device": device,
            "git_commit": git_commit(),
            "torch_version": torch.__version__,
            "elements": N,
            "iters": args.iters,
            "warmup": args.warmup,
            "copy_gbps": ref,
            "results": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
