"""What one vibetensor SDPA call puts on the GPU, per kernels.backend: every kernel, memcpy and memset
of one forward and one forward+backward, with its duration (CUPTI), beside the host time of the call.
It answers "why is the op slower than its kernels": a copy, a memset or a fallback shows up by name.

    python benchmarks/trace_suite_op.py [--shape 32,10,2048,128] [--dtype bfloat16] [--causal 1]
"""
import argparse
import collections
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from _cuda_bench_util import require_gpu_or_exit  # noqa: E402

vt = require_gpu_or_exit("trace_suite_op")
import vibetensor.kernels  # noqa: E402,F401  (registers the Triton compiler)
from vibetensor.probes import cupti  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="32,10,2048,128")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--causal", type=int, default=1)
    a = ap.parse_args()
    B, H, T, D = map(int, a.shape.split(","))
    F = vt.nn.functional
    for backend in ("native", "triton"):
        with vt.policy.override({"kernels.backend": backend}):
            q, k, v, g = (vt.randn(B, H, T, D, device="cuda").to(getattr(vt, a.dtype)) for _ in range(4))
            for t in (q, k, v):
                t.requires_grad_(True)

            def fwd():
                return F.scaled_dot_product_attention(q, k, v, is_causal=bool(a.causal))

            def fwdbwd():
                fwd().backward(g)

            for name, fn in (("fwd", fwd), ("fwd+bwd", fwdbwd)):
                fn()
                fn()  # compiled and cached
                vt.cuda.synchronize()
                with cupti.KernelActivity() as act:
                    t0 = time.perf_counter()
                    fn()
                    host = time.perf_counter() - t0
                    vt.cuda.synchronize()
                    wall = time.perf_counter() - t0
                per = collections.OrderedDict()
                for r in act.records:
                    c = per.setdefault((r.kind, r.name[:90]), [0, 0])
                    c[0] += 1
                    c[1] += r.end_ns - r.start_ns
                print(f"{backend:6s} {name:7s} host {host * 1e3:.3f} ms, wall {wall * 1e3:.3f} ms, "
                      f"GPU busy {act.busy_ns / 1e6:.3f} ms", flush=True)
                for (kind, kname), (n, ns) in per.items():
                    print(f"    {ns / 1e6:8.3f} ms x{n:<3d} {kind:7s} {kname}", flush=True)


if __name__ == "__main__":
    main()
