"""The kernel suite against PyTorch, family x backend x shape, in one run on one GPU: vibetensor with
kernels.backend=native, =triton and =cute (where nvidia-cutlass-dsl is installed) beside torch eager,
forward alone and forward + backward.

    python benchmarks/bench_kernel_suite.py [--families softmax,attention] [--backends native,triton,cute]
        [--rounds 5] [--json PATH] [--markdown PATH] [--sdpa-backends flash,cudnn,efficient]

Method: every sample is the median CUDA-event time of `batch` back-to-back calls on the library's
current stream, so it is the throughput of eager calls (a host-bound call shows its host time).
The variants of one case are measured in interleaved rounds and each reports the median over rounds.
Memory-bound families report bytes moved (each tensor read or written once) per second and that as
a fraction of the device-to-device copy bandwidth measured in the same run; attention reports
TFLOP/s (forward 4*B*H*T*T*D, half of it when causal; backward 2.5 times the forward).
The first call of every case compiles its kernels (cached on disk); it is outside the timing.
Attention cases also time torch's SDPA with each backend of --sdpa-backends forced (`torch flash`, ...:
torch's default picks one by a fixed priority, and the issue's comparator is the flash backend); their
ratios are over the default's time like every other's, and a backend that refuses the shape is left out.
"""
import argparse
import json
import math
import statistics
import sys

from _cuda_bench_util import SDPA_BACKENDS, require_gpu_or_exit, sdpa_backend, write_json

vt = require_gpu_or_exit("bench_kernel_suite")
import torch  # noqa: E402
import vibetensor.kernels  # noqa: E402,F401  (registers the Triton and CuTe DSL compilers)
from vibetensor.kernels import suite  # noqa: E402

TDT = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
VDT = {"float32": vt.float32, "bfloat16": vt.bfloat16, "float16": vt.float16}
NBYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


def _randn(lib, shape, dtype, scale=1.0, shift=0.0):
    """Normal values made on the GPU by each library itself (the values differ between libraries;
    only the timing is compared)."""
    x = lib.randn(*shape, device="cuda") * scale + shift
    return x.to(TDT[dtype] if lib is torch else VDT[dtype])


def event_ms(lib, fn, batch):
    start, end = lib.cuda.Event(enable_timing=True), lib.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(batch):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / batch


class Case:
    """One shape of one family: inputs made once per library; fwd(lib, F, t) and fwdbwd(lib, F, t)."""

    bwd_flops = 3.5  # fwd+bwd FLOPs over fwd FLOPs (attention's recompute; a matmul's is 3)
    sdpa = False  # an attention case: torch's SDPA backends are timed beside its default
    scope = "fused"  # kernels.scope of the "vt triton" variant: "all" for the matmul and elementwise families

    def __init__(self, family, label, dtype, make, fwd, bwd_inputs, bytes_fwd, bytes_bwd, flops=None):
        self.family, self.label, self.dtype = family, label, dtype
        self.make, self.fwd, self.bwd_inputs = make, fwd, bwd_inputs
        self.bytes_fwd, self.bytes_bwd, self.flops = bytes_fwd, bytes_bwd, flops


def _rows(family, rows, cols, dtype, fwd, n_tensors_fwd=2, n_tensors_bwd=3, params=0):
    """A row-wise family over [rows, cols]: x (and a parameter vector for the norms)."""
    b = NBYTES[dtype]

    def make(lib, dev):
        t = {"x": _randn(lib, (rows, cols), dtype), "w": _randn(lib, (cols,), dtype, 0.5, 1.0),
             "b": _randn(lib, (cols,), dtype, 0.5), "g": _randn(lib, (rows, cols), dtype)}
        t["x"].requires_grad_(True)
        if params:
            t["w"].requires_grad_(True)
            t["b"].requires_grad_(True)
        return t

    return Case(family, f"{rows}x{cols}", dtype, make, fwd, lambda t: [t["x"]] + ([t["w"], t["b"]][:params]),
                n_tensors_fwd * rows * cols * b, n_tensors_bwd * rows * cols * b)


def _cross_entropy(rows, vocab, dtype):
    b = NBYTES[dtype]

    def make(lib, dev):
        t = {"x": _randn(lib, (rows, vocab), dtype), "y": lib.randint(0, vocab, (rows,), device="cuda")}
        t["x"].requires_grad_(True)
        return t

    return Case("cross_entropy", f"{rows}x{vocab}", dtype, make, lambda F, t: F.cross_entropy(t["x"], t["y"]),
                lambda t: [t["x"]], rows * vocab * b, 2 * rows * vocab * b)


def _embedding(V, N, dim, dtype):
    """Rows of a [V, dim] weight gathered at N indices; the backward sums N gradient rows into V weight rows."""
    b = NBYTES[dtype]

    def make(lib, dev):
        t = {"w": _randn(lib, (V, dim), dtype), "i": lib.randint(0, V, (N,), device="cuda"),
             "g": _randn(lib, (N, dim), dtype)}
        t["w"].requires_grad_(True)
        return t

    return Case("embedding", f"V{V} N{N} x{dim}", dtype, make, lambda F, t: F.embedding(t["i"], t["w"]),
                lambda t: [t["w"]], 2 * N * dim * b + 8 * N, N * dim * b + V * dim * b + 16 * N)


def _rotary(B, T, H, D, dtype):
    """RoPE of the query view of a [B, T, 3 * H * D] qkv projection (the GPT workloads' layout): torch
    composes it (slices, products, cat), vibetensor calls rotary_embedding; reads x, writes y."""
    b, n = NBYTES[dtype], B * T * H * D

    def make(lib, dev):
        qkv = _randn(lib, (B, T, 3 * H * D), dtype).requires_grad_(True)
        t = {"qkv": qkv, "cos": _randn(lib, (T, D // 2), "float32"), "sin": _randn(lib, (T, D // 2), "float32"),
             "g": _randn(lib, (B, H, T, D), dtype)}
        return t

    def fwd(F, t):
        q = t["qkv"].view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)[0]
        if hasattr(F, "rotary_embedding"):
            return F.rotary_embedding(q, t["cos"].to(q.dtype), t["sin"].to(q.dtype))
        cos, sin = t["cos"].to(q.dtype), t["sin"].to(q.dtype)
        x1, x2 = q[..., :D // 2], q[..., D // 2:]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)

    return Case("rotary", f"B{B} T{T} H{H} D{D}", dtype, make, fwd, lambda t: [t["qkv"]], 2 * n * b, 2 * n * b)


def _bias_gelu(rows, cols, dtype):
    """gelu(x + b), b a [cols] bias (a Linear's, before vit_cifar's GELU): torch adds and then applies
    GELU, vibetensor calls bias_gelu (its native backend runs the math on ops); reads x and b, writes y;
    backward reads x, b and dy, writes dx and db."""
    b = NBYTES[dtype]

    def make(lib, dev):
        return {"x": _randn(lib, (rows, cols), dtype).requires_grad_(True),
                "b": _randn(lib, (cols,), dtype, 0.5).requires_grad_(True), "g": _randn(lib, (rows, cols), dtype)}

    def fwd(F, t):
        return F.bias_gelu(t["x"], t["b"]) if hasattr(F, "bias_gelu") else F.gelu(t["x"] + t["b"])

    return Case("bias_gelu", f"{rows}x{cols}", dtype, make, fwd, lambda t: [t["x"], t["b"]],
                (2 * rows * cols + cols) * b, (3 * rows * cols + 2 * cols) * b)


def _attention(B, H, T, D, dtype, causal):
    fl = 4 * B * H * T * T * D * (0.5 if causal else 1.0)

    def make(lib, dev):
        t = {n: _randn(lib, (B, H, T, D), dtype) for n in "qkvg"}
        for n in "qkv":
            t[n].requires_grad_(True)
        return t

    label = f"B{B} H{H} T{T} D{D}{' causal' if causal else ''}"
    c = Case("attention", label, dtype, make,
             lambda F, t: F.scaled_dot_product_attention(t["q"], t["k"], t["v"], is_causal=causal),
             lambda t: [t["q"], t["k"], t["v"]], 0, 0, flops=fl)
    c.sdpa = True
    return c


def _matmul(M, K, N, dtype):
    """x [M, K] @ w [K, N] and both gradients (the backward's products of transposed views)."""
    def make(lib, dev):
        return {"x": _randn(lib, (M, K), dtype).requires_grad_(True), "w": _randn(lib, (K, N), dtype, 0.05).requires_grad_(True),
                "g": _randn(lib, (M, N), dtype)}

    c = Case("matmul", f"{M}x{K} @ {K}x{N}", dtype, make, lambda F, t: t["x"] @ t["w"], lambda t: [t["x"], t["w"]], 0, 0,
             flops=2.0 * M * N * K)
    c.scope, c.bwd_flops = "all", 3.0
    return c


def _binary(rows, cols, dtype, bias):
    """x * y over [rows, cols] (y a [cols] bias broadcast over rows when `bias`), forward and backward."""
    b = NBYTES[dtype]

    def make(lib, dev):
        return {"x": _randn(lib, (rows, cols), dtype).requires_grad_(True),
                "y": _randn(lib, (cols,) if bias else (rows, cols), dtype).requires_grad_(True),
                "g": _randn(lib, (rows, cols), dtype)}

    n_y = cols if bias else rows * cols
    c = Case("elementwise", f"{rows}x{cols} * {'[cols]' if bias else 'same'}", dtype, make, lambda F, t: t["x"] * t["y"],
             lambda t: [t["x"], t["y"]], (2 * rows * cols + n_y) * b, (4 * rows * cols + 2 * n_y) * b)
    c.scope = "all"
    return c


def cases(families):
    out = []
    big = [(16384, 8192)]
    workload = [(4096, 128), (16384, 128), (33280, 256)]
    for dtype in ("float32", "bfloat16"):
        for rows, cols in big + workload:
            out.append(_rows("softmax", rows, cols, dtype, lambda F, t: F.softmax(t["x"], -1)))
            out.append(_rows("log_softmax", rows, cols, dtype, lambda F, t: F.log_softmax(t["x"], -1)))
            out.append(_rows("layer_norm", rows, cols, dtype,
                             lambda F, t: F.layer_norm(t["x"], (t["x"].shape[-1],), t["w"], t["b"]), params=2))
            out.append(_rows("rms_norm", rows, cols, dtype,
                             lambda F, t: F.rms_norm(t["x"], (t["x"].shape[-1],), t["w"]), params=1))
            out.append(_rows("gelu", rows, cols, dtype, lambda F, t: F.gelu(t["x"], approximate="tanh")))
        for rows, vocab in ((16384, 8192), (8192, 36), (16384, 4096), (4096, 32768)):
            out.append(_cross_entropy(rows, vocab, dtype))
    # seq_reverse's and minigpt's token embeddings, a 32k vocabulary at 16k tokens x 1024
    for V, N, dim in ((36, 4096, 128), (4096, 8192, 256), (32768, 16384, 1024)):
        for dtype in ("float32", "bfloat16"):
            out.append(_embedding(V, N, dim, dtype))
    for B, T, H, D, dtype in ((64, 128, 8, 32, "float32"), (64, 64, 4, 32, "float32"), (32, 2048, 10, 128, "bfloat16")):
        out.append(_rotary(B, T, H, D, dtype))
    # vit_cifar's MLP (batch 256 x 80 tokens, width 1024) and a large activation
    for rows, cols in ((20480, 1024), (16384, 8192)):
        for dtype in ("float32", "bfloat16"):
            out.append(_bias_gelu(rows, cols, dtype))
    out.append(_attention(32, 10, 2048, 128, "bfloat16", True))
    out.append(_attention(32, 10, 2048, 128, "bfloat16", False))
    for B, H, T in ((64, 4, 64), (64, 4, 80), (32, 8, 128)):
        out.append(_attention(B, H, T, 32, "float32", True))
    # kernels.scope=all (Note [Suite scope]): the GPT workloads' projections, VibeTensor's kind of GEMM
    for M, K, N in ((8192, 384, 1152), (8192, 1536, 384), (8192, 384, 65), (4096, 4096, 4096)):
        out.append(_matmul(M, K, N, "float32"))
    out.append(_matmul(4096, 4096, 4096, "bfloat16"))
    for rows, cols, bias in ((8192, 384, True), (16384, 8192, False)):
        for dtype in ("float32", "bfloat16"):
            out.append(_binary(rows, cols, dtype, bias))
    return [c for c in out if not families or c.family in families]


def variants(backends, sdpa_backends=(), scope="fused"):
    """(name, lib, functional, context): torch's default, torch's SDPA with each backend forced, vibetensor
    under each kernels.backend."""
    import torch.nn.functional as tF
    import vibetensor.nn.functional as vF
    out = [("torch", torch, tF, lambda: sdpa_backend(None))]
    out += [(f"torch {b}", torch, tF, lambda b=b: sdpa_backend(b)) for b in sdpa_backends]
    return out + [(f"vt {b}", vt, vF, lambda b=b: _backend(b, scope)) for b in backends]


def default_backends():
    """native and triton, and cute where nvidia-cutlass-dsl registered its compiler."""
    return ["native", "triton"] + (["cute"] if suite.installed("cute") else [])


def run_case(case, rounds, batch, backends, sdpa_backends=()):
    results = {}
    prepared = []
    for name, lib, F, ctx in variants(backends, sdpa_backends if case.sdpa else (), case.scope):
        t = case.make(lib, "cuda")
        grads = case.bwd_inputs(t)

        def fwd(F=F, t=t):
            return case.fwd(F, t)

        def fwdbwd(lib=lib, F=F, t=t, grads=grads):
            y = case.fwd(F, t)
            go = t["g"] if "g" in t and y.dim() > 0 else None
            lib.autograd.grad(y, grads, go)

        prepared.append((name, lib, ctx, fwd, fwdbwd))
    kept = []
    for name, lib, ctx, fwd, fwdbwd in prepared:  # compiles and warm-up, untimed
        try:
            with ctx():
                for _ in range(3):
                    fwd(), fwdbwd()
            lib.cuda.synchronize()
        except RuntimeError as e:
            if not name.startswith("torch "):
                raise
            # a forced SDPA backend that cannot serve this shape or dtype (torch says why)
            print(f"  {case.family} {case.label} {case.dtype}: {name} left out: {str(e).splitlines()[0][:100]}",
                  file=sys.stderr)
            continue
        kept.append((name, lib, ctx, fwd, fwdbwd))
    prepared = kept
    samples = {(n, p): [] for n, *_ in prepared for p in ("fwd", "fwd+bwd")}
    for _ in range(rounds):
        for name, lib, ctx, fwd, fwdbwd in prepared:
            with ctx():
                samples[(name, "fwd")].append(event_ms(lib, fwd, batch))
                samples[(name, "fwd+bwd")].append(event_ms(lib, fwdbwd, batch))
    for key, xs in samples.items():
        results[key] = statistics.median(xs)
    return results


class _backend:
    def __init__(self, backend, scope="fused"):
        self.ctx = vt.policy.override({"kernels.backend": backend, "kernels.scope": scope}) if backend else None

    def __enter__(self):
        if self.ctx:
            self.ctx.__enter__()

    def __exit__(self, *a):
        if self.ctx:
            self.ctx.__exit__(*a)


def copy_gbps(batch):
    x = torch.empty(16384 * 8192, device="cuda")
    y = torch.empty_like(x)
    ms = statistics.median(event_ms(torch, lambda: y.copy_(x), batch) for _ in range(5))
    return 2 * x.numel() * 4 / ms / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default="", help="comma-separated families (default: all)")
    ap.add_argument("--backends", default="", help="comma-separated kernels.backend values (default: native, triton "
                    "and cute where installed)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--json", default="")
    ap.add_argument("--markdown", default="")
    ap.add_argument("--sdpa-backends", default="flash,cudnn,efficient",
                    help=f"torch SDPA backends timed beside its default in the attention cases ({', '.join(SDPA_BACKENDS)}; "
                    "empty: none)")
    a = ap.parse_args()
    sdpa_backends = [b for b in a.sdpa_backends.split(",") if b]
    bad = [b for b in sdpa_backends if b not in SDPA_BACKENDS]
    if bad:
        ap.error(f"unknown --sdpa-backends {bad}: expected some of {', '.join(SDPA_BACKENDS)}")
    families = set(filter(None, a.families.split(",")))
    backends = list(filter(None, a.backends.split(","))) or default_backends()
    impls = ["torch"] + [f"vt {b}" for b in backends]
    copy = copy_gbps(a.batch)
    print(f"device-to-device copy: {copy:.0f} GB/s ({vt.cuda.get_device_name(0)})")
    rows = []
    for case in cases(families):
        suite.reset_report()
        try:
            r = run_case(case, a.rounds, a.batch, backends, sdpa_backends)
        except Exception as e:  # noqa: BLE001  (one broken case must not hide the others)
            print(f"{case.family} {case.label} {case.dtype}: FAILED {type(e).__name__}: {e}", file=sys.stderr)
            rows.append({"family": case.family, "shape": case.label, "dtype": case.dtype, "error": str(e)})
            continue
        # log_softmax's kernels are the softmax family's (one kernel, LOG constexpr), bias_gelu's the gelu family's
        suite_family = {"log_softmax": "softmax", "bias_gelu": "gelu"}.get(case.family, case.family)
        report = [x for x in suite.report() if x["family"] == suite_family]
        case_impls = ["torch"] + [f"torch {b}" for b in sdpa_backends if ("torch " + b, "fwd") in r] + impls[1:]
        for p in ("fwd", "fwd+bwd"):
            base = r[("torch", p)]
            for name in case_impls:
                ms = r[(name, p)]
                row = {"family": case.family, "shape": case.label, "dtype": case.dtype, "pass": p, "impl": name,
                       "ms": ms, "vs_torch": ms / base}
                if case.flops:
                    fl = case.flops * (1 if p == "fwd" else case.bwd_flops)
                    row["tflops"] = fl / ms / 1e9
                else:
                    nbytes = case.bytes_fwd + (case.bytes_bwd if p == "fwd+bwd" else 0)
                    row["gbps"] = nbytes / ms / 1e6
                    row["copy_fraction"] = row["gbps"] / copy
                if name.startswith("vt ") and name != "vt native":
                    row["suite"] = [x for x in report if x["backend"] == name[3:]]
                rows.append(row)
        print(_line(rows[-2 * len(case_impls):]), flush=True)
    table = markdown(rows, copy, impls)
    print(table)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table)
    write_json(a.json, {"copy_gbps": copy, "rows": rows})


def _line(rows):
    r0 = rows[0]
    parts = [f"{r['pass']} {r['impl']} {r['ms']:.4f} ms ({r['vs_torch']:.2f}x)" for r in rows]
    return f"{r0['family']:>13} {r0['shape']:>22} {r0['dtype']:>8}: " + "; ".join(parts)


def markdown(rows, copy, impls):
    """One row per case and pass: torch's time, each vibetensor backend's time and ratio, and the fastest
    suite backend's bandwidth (or TFLOP/s) with what it ran (its launches and fallbacks)."""
    suites = [i for i in impls if i not in ("torch", "vt native")]
    head = ["family", "shape", "dtype", "pass", "torch ms"] + [f"{i[3:]} ms (x)" for i in impls[1:]] + \
        ["best suite GB/s (copy %) or TFLOP/s", "it ran", "torch SDPA backends ms (x)"]
    out = [f"Copy bandwidth {copy:.0f} GB/s. Ratios are time over torch's (below 1: faster than PyTorch).", "",
           "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    by = {}
    for r in rows:
        if "error" in r:
            out.append(f"| {r['family']} | {r['shape']} | {r['dtype']} | error |" + " |" * (len(head) - 5) +
                       f" {r['error'][:60]} |")
            continue
        by.setdefault((r["family"], r["shape"], r["dtype"], r["pass"]), {})[r["impl"]] = r
    for (fam, shape, dtype, p), d in by.items():
        cells = [fam, shape, dtype, p, f"{d['torch']['ms']:.4f}"]
        cells += [f"{d[i]['ms']:.4f} ({d[i]['vs_torch']:.2f})" for i in impls[1:]]
        best = min((d[i] for i in suites), key=lambda x: x["ms"], default=None)
        if best is None:
            cells += ["", ""]
        else:
            cells.append(f"{best['impl'][3:]}: " + (f"{best['tflops']:.1f} TFLOP/s" if "tflops" in best else
                                                   f"{best['gbps']:.0f} ({100 * best['copy_fraction']:.0f}%)"))
            cells.append(", ".join(f"{x['backend']}{' fallback: ' + x['fallback'] if x['fallback'] else ''} x{x['count']}"
                                   for x in best.get("suite", []))[:80])
        cells.append("; ".join(f"{i[6:]} {x['ms']:.4f} ({x['vs_torch']:.2f})" for i, x in d.items() if i.startswith("torch ")))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
