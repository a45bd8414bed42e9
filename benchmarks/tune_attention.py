"""Block-size sweep of the attention family's Triton kernels (kernels/triton/attention.py) on a GPU.

For each shape and kernel it compiles every candidate (BLOCK_M, BLOCK_N, warps, stages) in parallel
processes (Triton's cache then holds them), times each on the GPU with triton.testing.do_bench,
checks its output against the configured blocks' output, and prints the fastest candidates beside
the blocks config_* chooses now and beside torch's scaled_dot_product_attention (forward, and
forward plus backward; its default choice and each of its flash, cuDNN and memory-efficient backends forced). It informs the config_* functions; it does not change them.

    python benchmarks/tune_attention.py [--shapes minigpt,vit] [--precision tf32x3] [--json out.json] [--jobs 15]

--precision tf32x3 times float32 shapes with their products as three TF32 tensor-core products
(PRECISION 2, kernels.fp32_matmul=tf32x3) instead of IEEE FMA ones.

Needs torch with CUDA and triton (the GPU machine has both).
"""
import argparse
import concurrent.futures as cf
import importlib
import importlib.util
import itertools
import json
import math
import os
import sys

from _cuda_bench_util import sdpa_backend

FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernels", "triton")

# name: (B, H, T, D, causal, dtype) -- the workloads' own attention and VibeTensor's training shape
SHAPES = {
    "seq_reverse": (64, 4, 64, 32, True, "float32"),
    "minigpt": (64, 8, 128, 32, True, "float32"),
    "vit": (256, 8, 80, 32, False, "float32"),
    "large_causal": (32, 10, 2048, 128, True, "bfloat16"),
    "large": (32, 10, 2048, 128, False, "bfloat16"),
}


def load_module():
    """This checkout's kernels/triton/attention.py, whatever vibetensor is installed: loaded as a module of
    the folder's package, since it imports the shared tile product (kernels/triton/_dot.py)."""
    if "vt_triton_kernels" not in sys.modules:
        spec = importlib.util.spec_from_file_location("vt_triton_kernels", os.path.join(FOLDER, "__init__.py"),
                                                      submodule_search_locations=[FOLDER])
        sys.modules[spec.name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[spec.name])
    return importlib.import_module("vt_triton_kernels.attention")


def time_sdpa(torch, do_bench, q, k, v, do, causal, backend):
    """(forward ms, forward+backward ms) of torch's SDPA, under its default choice (backend None) or with one
    backend of _cuda_bench_util.SDPA_BACKENDS forced."""
    sdpa = torch.nn.functional.scaled_dot_product_attention
    with sdpa_backend(backend):
        sdpa(q, k, v, is_causal=causal).backward(do)  # raises here if the backend refuses
        t_fwd = do_bench(lambda: sdpa(q, k, v, is_causal=causal), warmup=5, rep=40)
        t_fb = do_bench(lambda: sdpa(q, k, v, is_causal=causal).backward(do), warmup=5, rep=40)
    return t_fwd, t_fb


def candidates(kernel, dtype):
    """(BLOCK_M, BLOCK_N, warps, stages) satisfying the kernel's divisibility rule (Note [Fused attention])."""
    if dtype == "float32":
        ms, ns, warps, stages = (16, 32, 64, 128), (16, 32, 64), (2, 4, 8), (1, 2, 3)
    else:
        ms, ns, warps, stages = (16, 32, 64, 128), (32, 64, 128), (4, 8), (2, 3, 4)
    out = []
    for m, n, w, s in itertools.product(ms, ns, warps, stages):
        ok = (n % m == 0) if kernel == "attn_bwd_dkdv" else (m % n == 0)
        big = m * n > (128 * 64 if dtype == "float32" else 128 * 128)
        if ok and not big:
            out.append((m, n, w, s))
    return out


def make_inputs(torch, shape, seed=0):
    B, H, T, D, causal, dtype = shape
    g = torch.Generator(device="cuda").manual_seed(seed)
    dt = getattr(torch, dtype)
    q, k, v, do = (torch.randn(B, H, T, D, device="cuda", generator=g).to(dt) for _ in range(4))
    return q, k, v, do


def strides(t):
    return t.stride(0), t.stride(1), t.stride(2)


def precision(shape, name):
    """The kernels' PRECISION constexpr: 16-bit inputs 0; float32 1 (IEEE) or 2 (TF32x3)."""
    return 0 if shape[5] != "float32" else (2 if name == "tf32x3" else 1)


def launcher(A, torch, triton, kernel, shape, bufs, cfg, prec):
    """A zero-argument function that launches `kernel` with blocks `cfg` on `bufs`, and its output tensors."""
    B, H, T, D, causal, _ = shape
    q, k, v, do, o, lse, delta = bufs
    m, n, w, s = cfg
    scale = 1.0 / math.sqrt(D)
    if kernel == "attn_fwd":
        out = (torch.empty_like(q), torch.empty_like(lse))
        args = (q, k, v, out[0], out[1], *strides(q), *strides(k), *strides(v), H, T, scale)
        grid = (triton.cdiv(T, m), B * H)
    elif kernel == "attn_bwd_dkdv":
        out = (torch.empty_like(k), torch.empty_like(v))
        args = (q, k, v, do, lse, delta, out[0], out[1], *strides(q), *strides(k), *strides(v), *strides(do),
                H, T, scale)
        grid = (triton.cdiv(T, n), B * H)
    else:
        out = (torch.empty_like(q),)
        args = (q, k, v, do, lse, delta, out[0], *strides(q), *strides(k), *strides(v), *strides(do), H, T, scale)
        grid = (triton.cdiv(T, m), B * H)
    fn = A.KERNELS[kernel]
    consts = dict(HEAD_DIM=D, BLOCK_M=m, BLOCK_N=n, CAUSAL=causal, num_warps=w, num_stages=s)
    if kernel != "attn_bwd_pre":
        consts["PRECISION"] = prec
    return (lambda: fn[grid](*args, **consts)), out


def reference_buffers(A, torch, triton, shape, prec):
    B, H, T, D, causal, dtype = shape
    q, k, v, do = make_inputs(torch, shape)
    lse = torch.empty(B, H, T, device="cuda", dtype=torch.float32)
    o = torch.empty_like(q)
    bm, bn, w, s = A.config_attn_fwd(T, D, q.element_size(), causal)
    A.attn_fwd[(triton.cdiv(T, bm), B * H)](q, k, v, o, lse, *strides(q), *strides(k), *strides(v), H, T,
                                            1.0 / math.sqrt(D), HEAD_DIM=D, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal,
                                            PRECISION=prec, num_warps=w, num_stages=s)
    delta = (o.float() * do.float()).sum(-1).contiguous()
    return q, k, v, do, o, lse, delta


def configured(A, kernel, shape):
    B, H, T, D, causal, dtype = shape
    nbytes = 4 if dtype == "float32" else 2
    return tuple(getattr(A, "config_" + kernel)(T, D, nbytes, causal))


def _compile_worker(job):
    """Compiles (warms Triton's cache with) one candidate; returns an error string or ''."""
    kernel, shape, cfg, prec = job
    import torch
    import triton
    A = load_module()
    try:
        bufs = reference_buffers(A, torch, triton, shape, prec)
        run, _ = launcher(A, torch, triton, kernel, shape, bufs, cfg, prec)
        run()
        torch.cuda.synchronize()
        return ""
    except Exception as e:  # noqa: BLE001  (out of shared memory, register limits: the candidate is skipped)
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def _context_alive():
    import torch

    try:
        torch.cuda.synchronize()
        return True
    except Exception:  # noqa: BLE001  (a device fault: every later CUDA call of this process fails too)
        return False


def _compile_batch(jobs):
    """Compiles [(key, job)] in turn in this process until one faults on the device (Triton 3.6's TF32x3
    lowering does at some small tiles on many warps): a fault poisons the process's CUDA context, so the
    rest are left out of the answer, for a fresh process. Returns {key: error string or ''}."""
    out = {}
    for key, job in jobs:
        out[key] = _compile_worker(job)
        if out[key] and not _context_alive():
            break
    return out


def compile_all(spec, n_jobs):
    """{key: error or ''} for every specialization in `spec` ({key: job}): batches in fresh processes,
    the candidates after a device fault re-queued until each ran in a healthy context."""
    ctx = __import__("multiprocessing").get_context("spawn")
    errors, pending = {}, list(spec.items())
    while pending:
        size = max(1, -(-len(pending) // (2 * n_jobs)))
        batches = [pending[i:i + size] for i in range(0, len(pending), size)]
        with cf.ProcessPoolExecutor(n_jobs, mp_context=ctx, max_tasks_per_child=1) as pool:
            for done in pool.map(_compile_batch, batches):
                errors.update(done)
        pending = [(k, job) for k, job in pending if k not in errors]
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--kernels", default="attn_fwd,attn_bwd_dkdv,attn_bwd_dq")
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--top", type=int, default=3)
    ap.add_argument("--json", default="")
    ap.add_argument("--precision", choices=("ieee", "tf32x3"), default="ieee", help="of float32 products")
    args = ap.parse_args()
    import torch
    import triton
    from triton.testing import do_bench
    A = load_module()
    shapes = {name: SHAPES[name] for name in args.shapes.split(",")}
    kernels = args.kernels.split(",")
    jobs = [(k, shape, cfg) for shape in shapes.values() for k in kernels for cfg in candidates(k, shape[5])]
    # one compile per distinct specialization: T, B and H are runtime arguments
    spec = {}
    for k, shape, cfg in jobs:
        spec.setdefault((k, shape[3], shape[4], shape[5], cfg), (k, shape, cfg, precision(shape, args.precision)))
    errors = compile_all(spec, args.jobs)
    print(f"compiled {sum(1 for e in errors.values() if not e)} of {len(errors)} specializations on "
          f"{torch.cuda.get_device_name()}", flush=True)
    for (k, D, causal, dtype, cfg), err in sorted(errors.items(), key=str):
        if err:
            print(f"  skipped {k} D={D} {'causal' if causal else 'full'} {dtype} {cfg}: {err[:120]}", flush=True)
    results = []
    for name, shape in shapes.items():
        prec = precision(shape, args.precision)
        bufs = reference_buffers(A, torch, triton, shape, prec)
        B, H, T, D, causal, dtype = shape
        q, k, v, do = (t.detach().clone().requires_grad_(True) if i < 3 else t for i, t in enumerate(bufs[:4]))
        t_fwd, t_fb = time_sdpa(torch, do_bench, q, k, v, do, causal, None)
        row = {"shape": name, "dims": shape, "torch_fwd_ms": t_fwd, "torch_fwd_bwd_ms": t_fb, "kernels": {},
               "torch_backends": {}}
        for b in ("flash", "cudnn", "efficient"):  # the default picks one by a fixed priority; the comparator is flash
            try:
                row["torch_backends"][b] = time_sdpa(torch, do_bench, q, k, v, do, causal, b)
            except RuntimeError as e:  # this backend cannot serve the shape or dtype
                print(f"{name:13s} torch sdpa {b}: not available ({str(e).splitlines()[0][:80]})", flush=True)
        for kern in kernels:
            base_cfg = configured(A, kern, shape)
            base_run, base_out = launcher(A, torch, triton, kern, shape, bufs, base_cfg, prec)
            base_run()
            timed = []
            for cfg in candidates(kern, dtype) + ([base_cfg] if base_cfg not in candidates(kern, dtype) else []):
                if errors.get((kern, D, causal, dtype, cfg)):
                    continue
                try:
                    run, out = launcher(A, torch, triton, kern, shape, bufs, cfg, prec)
                    ms = do_bench(run, warmup=3, rep=15)
                    tol = 2e-2 if dtype != "float32" else 1e-4
                    good = all(torch.allclose(a.float(), b.float(), rtol=tol, atol=tol) for a, b in zip(out, base_out))
                except Exception as e:  # noqa: BLE001
                    print(f"  {name} {kern} {cfg}: {type(e).__name__}", flush=True)
                    if not _context_alive():
                        sys.exit(f"{name} {kern} {cfg} faulted on the device in this process: stopped, "
                                 "the rows above stand")
                    continue
                timed.append((ms, cfg, good))
            timed.sort()
            base = next((t for t in timed if t[1] == base_cfg), None)
            row["kernels"][kern] = {"configured": base_cfg, "configured_ms": base[0] if base else None,
                                    "best": [(ms, cfg, good) for ms, cfg, good in timed[:args.top]]}
            best = ", ".join(f"{ms:.4f} ms {cfg}{'' if good else ' WRONG'}" for ms, cfg, good in timed[:args.top])
            print(f"{name:13s} {kern:14s} configured {base_cfg} {base[0] if base else float('nan'):.4f} ms; "
                  f"best {best}", flush=True)
        print(f"{name:13s} torch sdpa fwd {t_fwd:.4f} ms, fwd+bwd {t_fb:.4f} ms; " +
              "; ".join(f"{b} {f:.4f} / {fb:.4f}" for b, (f, fb) in row["torch_backends"].items()), flush=True)
        results.append(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "triton": triton.__version__, "precision": args.precision,
                       "torch": torch.__version__, "results": results}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
