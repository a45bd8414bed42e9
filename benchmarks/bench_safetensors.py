"""Load time of one safetensors file (default 1 GiB of float32 in 64 tensors) by vibetensor.safetensors and
by safetensors.torch, to the CPU (and to the GPU with --cuda), interleaved over rounds; the median per
library. A CPU load that views the file's map (vibetensor) also reads every tensor once (a sum), so both
columns include touching the bytes, not only mapping them; the page cache is warm after the first round.

    python -P benchmarks/bench_safetensors.py [--mib 1024] [--tensors 64] [--rounds 5] [--cuda] [--dir /tmp]
"""
import argparse
import os
import statistics
import tempfile
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--tensors", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cuda", action="store_true")
    ap.add_argument("--dir", default=tempfile.gettempdir())
    a = ap.parse_args()
    import safetensors.torch as sft
    import torch

    import vibetensor as vt
    from vibetensor import safetensors as vst

    per = a.mib * 2 ** 20 // 4 // a.tensors
    rng = np.random.default_rng(0)
    path = os.path.join(a.dir, f"bench_{a.mib}mib.safetensors")
    sft.save_file({f"t{i}": torch.from_numpy(rng.standard_normal(per, dtype=np.float32)) for i in range(a.tensors)}, path)
    devices = ["cpu"] + (["cuda"] if a.cuda else [])
    samples = {(lib, d): [] for lib in ("vibetensor", "safetensors.torch") for d in devices}
    loads = {k: [] for k in samples}

    def touch(tensors, lib):
        for t in tensors.values():
            t.sum()
        if lib == "vibetensor" and "cuda" in devices:
            vt.cuda.synchronize()
        elif "cuda" in devices:
            torch.cuda.synchronize()

    for r in range(a.rounds):
        order = list(samples) if r % 2 == 0 else list(samples)[::-1]
        for lib, d in order:
            t0 = time.perf_counter()
            if lib == "vibetensor":
                out = vst.load_file(path, device=d)
            else:
                out = sft.load_file(path, device=d)
            loads[(lib, d)].append(time.perf_counter() - t0)
            touch(out, lib)
            samples[(lib, d)].append(time.perf_counter() - t0)
            del out
    print(f"file {path}: {a.tensors} float32 tensors, {os.path.getsize(path) / 2 ** 20:.0f} MiB; median of {a.rounds} "
          f"rounds; 'load' is load_file's return, 'load + sum' adds one sum per tensor (the bytes read once, by "
          f"each library's own sum)")
    for d in devices:
        for what, table in (("load", loads), ("load + sum", samples)):
            v, s = statistics.median(table[("vibetensor", d)]), statistics.median(table[("safetensors.torch", d)])
            print(f"{d} {what}: vibetensor {v * 1e3:.1f} ms ({a.mib / 1024 / v:.2f} GiB/s)  safetensors.torch "
                  f"{s * 1e3:.1f} ms ({a.mib / 1024 / s:.2f} GiB/s)  ratio {v / s:.2f}x")
    os.remove(path)


if __name__ == "__main__":
    main()
