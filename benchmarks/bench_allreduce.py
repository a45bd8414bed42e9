"""All-reduce bandwidth against message size, as nccl-tests defines it, for any number of ranks:

    python benchmarks/bench_allreduce.py --nproc 4 [--device cpu|cuda] [--backend gloo|nccl|threads]
        [--algorithm nccl|ring] [--sizes 4K,64K,1M,16M] [--iters 10] [--json PATH]

The script launches itself through vibetensor.distributed.run (one rank per process; with --device cuda each
rank takes the GPU of its LOCAL_RANK), or with --backend threads runs its ranks as threads of one process
(vibetensor.distributed.spawn_threads, rank r on cuda:r, round robin over the GPUs there are). --algorithm sets the policy comm.allreduce: the
backend's own collective (nccl) or the home-made ring (Note [Ring all-reduce] in vibetensor/distributed/ring.py). Per size: the median over --iters timed all_reduce calls (sum, float32)
after one warm-up, each between two barriers; algbw = bytes / time, busbw = algbw * 2 (n - 1) / n (nccl-tests'
bus bandwidth: what each rank's link carries in a ring, comparable across rank counts). Rank 0 prints the
table and writes the JSON. Every rank checks the result (the sum of the ranks' values) before timing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def _size(text):
    text = text.strip().upper().rstrip("B")
    return int(float(text[:-1]) * UNITS[text[-1]]) if text[-1] in UNITS else int(text)


def _rank_main(a, thread_rank=None):
    import vibetensor as vt
    import vibetensor.distributed as dist

    vt.policy.set("comm.allreduce", a.algorithm)
    dist.init_process_group(a.backend)
    rank, n = dist.get_rank(), dist.get_world_size()
    local = thread_rank if thread_rank is not None else int(os.environ.get("LOCAL_RANK", 0))
    device = f"cuda:{local}" if a.device == "cuda" else "cpu"
    rows = []
    for nbytes in [_size(s) for s in a.sizes.split(",")]:
        count = max(1, nbytes // 4)
        x = vt.full([count], float(rank + 1), device=device)
        dist.all_reduce(x)  # warm-up, and the check: 1 + 2 + ... + n everywhere
        if not np.all(x.cpu().numpy() == n * (n + 1) / 2):
            raise AssertionError(f"rank {rank}: all_reduce of {count} floats gave a wrong sum")
        times = []
        for _ in range(a.iters):
            dist.barrier()
            if device != "cpu":
                vt.cuda.synchronize()
            t0 = time.perf_counter()
            dist.all_reduce(x)
            if device != "cpu":
                vt.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        algbw = count * 4 / t / 1e9
        rows.append({"bytes": count * 4, "time_us": t * 1e6, "algbw_gbps": algbw, "busbw_gbps": algbw * 2 * (n - 1) / n})
    if rank == 0:
        print(f"all_reduce (sum, float32) over {n} ranks, backend {a.backend}, algorithm {a.algorithm}, {a.device}; "
              f"median of {a.iters}")
        print(f"{'bytes':>12} {'time us':>12} {'algbw GB/s':>12} {'busbw GB/s':>12}")
        for r in rows:
            print(f"{r['bytes']:>12} {r['time_us']:>12.1f} {r['algbw_gbps']:>12.3f} {r['busbw_gbps']:>12.3f}")
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"ranks": n, "backend": a.backend, "algorithm": a.algorithm, "device": a.device,
                           "iters": a.iters, "rows": rows}, f, indent=2)
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--backend", default="gloo", help="gloo (the store), nccl, or threads (one process)")
    ap.add_argument("--algorithm", choices=("nccl", "ring"), default="nccl",
                    help="the policy comm.allreduce: the backend's collective, or the home-made ring")
    ap.add_argument("--sizes", default="4K,64K,1M,16M")
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    if "RANK" in os.environ:
        return _rank_main(a)
    if a.backend == "threads":
        import vibetensor as vt
        import vibetensor.distributed as dist
        gpus = vt.cuda.device_count() if a.device == "cuda" else 0
        devices = [f"cuda:{r % gpus}" if gpus else "cpu" for r in range(a.nproc)]
        dist.spawn_threads(lambda rank: _rank_main(a, int(devices[rank][5:]) if gpus else 0), a.nproc, devices=devices)
        return 0
    cmd = [sys.executable, "-m", "vibetensor.distributed.run", "--nproc-per-node", str(a.nproc),
           os.path.abspath(__file__)] + sys.argv[1:]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
