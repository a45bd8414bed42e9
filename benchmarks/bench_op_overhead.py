"""Per-op host overhead from Python: `a + b` on 1-element tensors, vibetensor vs PyTorch in one
run, with and without requires_grad, under dispatch.lookup=handle and locked_map.

    python benchmarks/bench_op_overhead.py [--device cpu|cuda] [--iters N]
"""
import argparse
import statistics
import time


def time_add(a, b, iters: int, repeats: int = 7) -> float:
    """Median over repeats of the mean time of one `a + b`, in microseconds."""
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            a + b
        samples.append((time.perf_counter() - t0) / iters * 1e6)
    return statistics.median(samples)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--iters", type=int, default=20000)
    args = p.parse_args()

    import torch
    import vibetensor as vt

    sync_t = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    rows = []
    for requires_grad in (False, True):
        ta = torch.ones(1, device=args.device, requires_grad=requires_grad)
        tb = torch.ones(1, device=args.device)
        time_add(ta, tb, 1000)
        t_us = time_add(ta, tb, args.iters)
        sync_t()
        for lookup in ("handle", "locked_map"):
            with vt.policy.override(**{"dispatch.lookup": lookup}):
                va = vt.ones(1, device=args.device, requires_grad=requires_grad)
                vb = vt.ones(1, device=args.device)
                time_add(va, vb, 1000)
                v_us = time_add(va, vb, args.iters)
                if args.device.startswith("cuda"):
                    vt.cuda.synchronize()
            rows.append((requires_grad, lookup, v_us, t_us))
    print(f"a + b on 1-element {args.device} tensors (us per op, median of 7 x {args.iters}); torch {torch.__version__}")
    print(f"{'requires_grad':>13} {'dispatch.lookup':>16} {'vibetensor':>11} {'torch':>8} {'vt/torch':>9}")
    for rg, lookup, v, t in rows:
        print(f"{str(rg):>13} {lookup:>16} {v:>11.3f} {t:>8.3f} {v / t:>8.2f}x")


if __name__ == "__main__":
    main()
