"""Float32 GEMMs at the workloads' own shapes: cuBLAS (PyTorch, IEEE and TF32) beside the suite's Triton
GEMM (kernels/triton/matmul.py) in IEEE and TF32x3 precision, over a few tile configurations, with each one's error against a float64 product (Note [Float32 products]).

    python benchmarks/bench_gemm_precision.py [--rounds 3] [--json out.json]

Every linear layer of vit_cifar_noaug (20480 token rows) and minigpt (8192) gives three products, as
its training step runs them: forward X @ W^T, the input's gradient dY @ W and the weight's gradient
dY^T @ X (a reduction over the token rows into few output tiles). Times are medians over
interleaved rounds (each round times every candidate once), from triton.testing.do_bench.
"""
import argparse
import json
import os
import statistics
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

# (workload, token rows, [(in_features, out_features)]): the linear layers of each block.
LAYERS = [("vit", 20480, [(256, 768), (256, 1024), (1024, 256)]),
          ("minigpt", 8192, [(256, 768), (256, 1024), (1024, 256)])]
# (BLOCK_M, BLOCK_N, BLOCK_K, num_warps, num_stages)
CONFIGS = [(128, 128, 32, 8, 3), (128, 128, 32, 4, 3), (128, 64, 32, 4, 4), (64, 128, 32, 4, 4),
           (128, 256, 32, 8, 3), (128, 128, 16, 4, 4)]


def problems(torch):
    """[(name, a, b)]: a @ b as the step computes it (views, no copies)."""
    out = []
    g = torch.Generator(device="cuda").manual_seed(0)
    for wl, rows, layers in LAYERS:
        for k_in, n_out in layers:
            x = torch.randn(rows, k_in, device="cuda", generator=g)
            w = torch.randn(n_out, k_in, device="cuda", generator=g) / k_in ** 0.5
            dy = torch.randn(rows, n_out, device="cuda", generator=g)
            tag = f"{wl} {k_in}->{n_out}"
            out += [(f"{tag} fwd", x, w.t()), (f"{tag} dgrad", dy, w), (f"{tag} wgrad", dy.t(), x)]
    return out


def unit(t):
    """(UNIT, (stride_rows, stride_cols)) as the launch contract wants: a unit stride passed as 0."""
    sr, sc = t.stride()
    if sc == 1:
        return 1, (sr, 0)
    if sr == 1:
        return 2, (0, sc)
    return 0, (sr, sc)


def matmul_family():
    """kernels/triton/matmul.py of this checkout, imported without vibetensor (its package __init__ would
    load the runtime; the kernels need only Triton)."""
    import importlib
    import importlib.util
    spec = importlib.util.spec_from_file_location("_bench_triton_families", os.path.join(ROOT, "kernels", "triton",
                                                  "__init__.py"), submodule_search_locations=[os.path.join(ROOT, "kernels", "triton")])
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package
    spec.loader.exec_module(package)
    return importlib.import_module(f"{spec.name}.matmul")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    import torch
    import triton
    mm = matmul_family()

    if not torch.cuda.is_available():
        print("bench_gemm_precision: needs a CUDA GPU; nothing to measure")
        return 0
    n_sms = torch.cuda.get_device_properties(0).multi_processor_count
    dev = torch.cuda.get_device_name(0)
    print(f"# float32 GEMMs on {dev} ({n_sms} SMs), torch {torch.__version__}, triton {triton.__version__}")
    rows = []
    for name, A, B in problems(torch):
        M, K = A.shape
        N = B.shape[1]
        ref = (A.double() @ B.double())
        scale = ref.abs().max().item()
        a_unit, (sam, sak) = unit(A)
        b_unit, (sbk, sbn) = unit(B)
        cands = {}

        def torch_fn(tf32):
            def f():
                torch.backends.cuda.matmul.allow_tf32 = tf32
                return A @ B
            return f
        cands["cublas ieee"] = torch_fn(False)
        cands["cublas tf32"] = torch_fn(True)

        def triton_fn(prec, cfg):
            bm, bn, bk, warps, stages = cfg
            c = torch.empty((M, N), device="cuda", dtype=torch.float32)

            def f():
                mm._matmul_fwd[(-(-M // bm) * -(-N // bn), 1)](
                    A, B, c, M, N, K, 0, sam, sak, 0, sbk, sbn, 0, N,
                    PRECISION=prec, A_UNIT=a_unit, B_UNIT=b_unit, BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk, GROUP_M=8,
                    num_warps=warps, num_stages=stages)
                return c
            return f
        cands["triton ieee 128x128x32"] = triton_fn(mm.IEEE, CONFIGS[0])
        for cfg in CONFIGS:
            cands[f"triton tf32x3 {cfg[0]}x{cfg[1]}x{cfg[2]} w{cfg[3]} s{cfg[4]}"] = triton_fn(mm.TF32X3, cfg)
        errors, times = {}, {k: [] for k in cands}
        for k, f in list(cands.items()):
            try:
                errors[k] = ((f() - ref).abs().max().item()) / scale
            except Exception as e:  # a configuration Triton cannot compile (registers, shared memory): dropped
                print(f"  {name}: {k} failed: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
                del cands[k], times[k]
        for _ in range(a.rounds):
            for k, f in cands.items():
                times[k].append(triton.testing.do_bench(f, warmup=10, rep=40))
        torch.backends.cuda.matmul.allow_tf32 = False
        med = {k: statistics.median(v) for k, v in times.items()}
        base = med["cublas ieee"]
        best = min((k for k in med if "tf32x3" in k), key=med.get)
        flops = 2 * M * N * K
        print(f"\n## {name}: M={M} N={N} K={K} (A unit {a_unit}, B unit {b_unit})")
        for k in sorted(med, key=med.get):
            if k.startswith("triton tf32x3") and k != best and med[k] > 1.5 * med[best]:
                continue
            print(f"  {k:<46} {med[k] * 1e3:8.1f} us  {flops / med[k] / 1e9:6.1f} TFLOP/s  "
                  f"x{med[k] / base:5.2f} of cuBLAS IEEE  rel.err {errors[k]:.1e}")
        rows.append({"problem": name, "m": M, "n": N, "k": K, "ms": med, "rel_err": errors, "best_tf32x3": best})
    print("\n## summary: best TF32x3 against cuBLAS IEEE (PyTorch's float32 default); the runtime's rule under\n"
          "## kernels.fp32_matmul=tf32x3 (Note [Float32 products]): the suite's 128x64 tiles where they are at least\n"
          "## as many as the SMs, else cuBLAS")
    rule = "triton tf32x3 128x64x32 w4 s4"
    tot_c = sum(r["ms"]["cublas ieee"] for r in rows)
    tot_t = sum(r["ms"][r["best_tf32x3"]] for r in rows)
    tot_r = 0.0
    for r in rows:
        b = r["best_tf32x3"]
        suite = -(-r["m"] // 128) * -(-r["n"] // 64) >= n_sms
        tot_r += r["ms"][rule] if suite else r["ms"]["cublas ieee"]
        print(f"  {r['problem']:<28} {r['ms']['cublas ieee'] * 1e3:8.1f} us -> {r['ms'][b] * 1e3:8.1f} us "
              f"(x{r['ms'][b] / r['ms']['cublas ieee']:.2f})  {b[14:]}  err {r['rel_err'][b]:.1e} "
              f"(IEEE {r['rel_err']['cublas ieee']:.1e})  rule: {'suite' if suite else 'cuBLAS'}")
    print(f"  all: {tot_c:.3f} ms -> best {tot_t:.3f} ms (x{tot_t / tot_c:.2f}), the rule {tot_r:.3f} ms "
          f"(x{tot_r / tot_c:.2f})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"device": dev, "torch": torch.__version__, "triton": triton.__version__,
                       "git_commit": os.environ.get("VT_GIT_COMMIT", ""), "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
