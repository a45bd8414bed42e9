"""Config sweep of the persistent norm backward kernels (kernels/triton: rms_norm_bwd_dx and layer_norm_bwd_dx,
then norm_bwd_dwdb for dweight and dbias) on a GPU.

For each shape and family it compiles every candidate in parallel processes (warming Triton's cache),
then times the whole backward (the dx kernel and the column sums of its partial rows) with
triton.testing.do_bench, checks each candidate's dx / dweight / dbias against the configured tiling's
(kernels.triton.persistent_row_config, config_norm_bwd_dwdb), and prints the configured row, the five
fastest and torch's eager backward (autograd on a retained graph). It informs the config helpers; it
changes nothing. The candidates:

- dx kernel: ROWS x num_warps (each thread holding 2 to 32 elements of a [ROWS, BLOCK] tile, ROWS * BLOCK
  <= 16384), n_programs = n_sms * k (k in 1, 2, 4, 8; never more than the row tiles); the suite's kernel
  and, on the single-block path, VARIANTS: norm_bwd_dx_variant below, the same arithmetic with the
  next row tile's x / dy loads issued before this tile's reductions ("pf", weight loaded once), the
  weight loaded once only ("hw"), or the tile loop under tl.range(num_stages=2) ("ts2").
- dwdb kernel: (BLOCK_R, BLOCK_C) x warps, timed behind the fastest dx candidates and the configured one.
--quick keeps ROWS 1, 2 x warps 8, 16, 32 for rows of 4096 columns or more (the variants at a few of
those), ROWS as configured and twice that x warps 4, 8 for short rows, k in 1, 2, 4, and the dwdb
sweep behind the fastest dx candidate only.

The variants live here, not in kernels/triton: a KERNELS entry takes exactly the constexprs of its C++
declaration (kernels/triton_compiler.py, _check_parameters) and none with a default
(tests/kernels/test_triton_families.py), so an optional constexpr there would break the C++ launch.
A variant that wins moves into the kernel together with its C++ declaration.

Bandwidth counts what benchmarks/bench_kernel_suite.py counts for a norm (each tensor of the row shape
read or written once: backward x, dy, dx = 3 * rows * cols * itemsize; forward x, y = 2x), over the
device-to-device copy bandwidth of a 1 GiB clone measured in the same run. "f+b%" is the
forward + backward figure bench_kernel_suite reports, from the suite's forward kernel (configured
tiling) timed here plus the candidate's backward. Parameter vectors, mean / rstd and the partial rows
are not counted (the header says how much they add). Timings flush the L2 before each call (do_bench);
bench_kernel_suite does not.

Launches mirror the C++ launcher's aligned cubin (Note [Aligned variants]): tt.divisibility 16 on
pointers, *_stride and n_cols, no specialization of n_rows / n_programs / n_part_rows, num_stages=3
(Triton passes the strides as i32 where the C++ launcher passes i64; offsets are int64 in both).

    python benchmarks/tune_norm_bwd.py [--quick] [--shapes 16384x8192-bf16,4096x128-fp32] [--families rms,ln]
        [--jobs 15] [--json out.json]

--quick is a reduced grid (about a minute on one H100 with 15 compile processes). Needs torch with
CUDA and triton; without a GPU it says so and exits 0. --dry-run-cpu runs the same steps on the CPU
under Triton's interpreter (use tiny --shapes, e.g. 37x100-fp32,19x128-bf16): it checks the script and
the variants' results, its timings mean nothing.
"""
import argparse
import concurrent.futures as cf
import faulthandler
import importlib
import importlib.util
import json
import os
import re
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DRY_RUN = "--dry-run-cpu" in sys.argv
if DRY_RUN:  # the interpreter is chosen when Triton is first imported
    os.environ["TRITON_INTERPRET"] = "1"
DEV = "cpu" if DRY_RUN else "cuda"
SOURCE = os.path.join(ROOT, "kernels", "triton")
PACKAGE = "_vt_tune_norm_bwd_kernels"

# the workloads' sizes and the large ones of benchmarks/bench_kernel_suite.py
DEFAULT_SHAPES = ("16384x8192-bf16", "16384x8192-fp32", "16384x4096-bf16",
                  "4096x128-fp32", "16384x128-fp32", "33280x256-fp32",
                  "4096x128-bf16", "16384x128-bf16", "33280x256-bf16")
DTYPES = {"bf16": "bfloat16", "fp32": "float32", "fp16": "float16"}
NBYTES = {"bfloat16": 2, "float16": 2, "float32": 4}
FAMILIES = {"rms": "rms_norm", "ln": "layer_norm"}
WARPS = (4, 8, 16, 32)
KS = (1, 2, 4, 8)
MAX_TILE = 16384
DWDB_BLOCKS = ((32, 64), (64, 64), (32, 128), (16, 256), (32, 32), (64, 32))
DWDB_WARPS = (4, 8)
# name: (PREFETCH, HOIST_W, STAGES) of norm_bwd_dx_variant (single-block path only)
VARIANTS = {"pf": (1, 1, 1), "hw": (0, 1, 1), "ts2": (0, 0, 2)}
TOL = {"float32": 1e-4, "bfloat16": 2e-2, "float16": 2e-3}
STAGES = 3  # what the C++ launcher compiles with (KernelDecl / Launch default)

try:
    import triton
    import triton.language as tl
except ImportError:  # --help and the no-GPU exit still work
    triton = None

if triton is not None:
    @triton.jit
    def _variant_tile(x_ptr, dy_ptr, mean_ptr, rstd_ptr, tile, n_rows, n_cols, x_stride, dy_stride, cols,
                      CENTERED: tl.constexpr, ROWS: tl.constexpr):
        """x and dy of row tile `tile` as stored (not converted: a prefetched bf16 tile costs half the
        registers), and its mean (rstd again when not CENTERED) and rstd; rows past n_rows read nothing."""
        rows = tile * ROWS + tl.arange(0, ROWS)
        mask = (rows[:, None] < n_rows) & (cols < n_cols)
        starts = rows.to(tl.int64)[:, None]
        x = tl.load(x_ptr + starts * x_stride + cols, mask=mask, other=0.0)
        dy = tl.load(dy_ptr + starts * dy_stride + cols, mask=mask, other=0.0)
        rstd = tl.load(rstd_ptr + rows, mask=rows < n_rows, other=0.0)
        mean = rstd
        if CENTERED:
            mean = tl.load(mean_ptr + rows, mask=rows < n_rows, other=0.0)
        return x, dy, mean, rstd

    @triton.jit
    def norm_bwd_dx_variant(x_ptr, w_ptr, dy_ptr, mean_ptr, rstd_ptr, dx_ptr, dw_ptr, db_ptr, n_rows, n_cols,
                            x_stride, dy_stride, dx_stride, n_programs,
                            CENTERED: tl.constexpr, HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr,
                            ROWS: tl.constexpr, BLOCK: tl.constexpr, PREFETCH: tl.constexpr,
                            HOIST_W: tl.constexpr, STAGES: tl.constexpr):
        """_layer_norm_bwd_dx (CENTERED) / _rms_norm_bwd_dx on the single-block path (n_cols <= BLOCK), same
        arithmetic and partial rows, with PREFETCH: the next tile's loads are issued before this tile's
        reductions; HOIST_W: the weight is loaded once per program; STAGES: num_stages of the tile loop."""
        pid = tl.program_id(0)
        cols = tl.arange(0, BLOCK)[None, :]
        col_mask = cols < n_cols
        n_tiles = tl.cdiv(n_rows, ROWS)
        dw_acc = tl.zeros([ROWS, BLOCK], tl.float32)
        db_acc = tl.zeros([ROWS, BLOCK], tl.float32)
        if HAS_WEIGHT and HOIST_W:
            w_all = tl.load(w_ptr + cols, mask=col_mask, other=0.0).to(tl.float32)
        if PREFETCH:
            x_next, dy_next, mean_next, rstd_next = _variant_tile(x_ptr, dy_ptr, mean_ptr, rstd_ptr, pid, n_rows,
                                                                  n_cols, x_stride, dy_stride, cols, CENTERED, ROWS)
        for tile in tl.range(pid, n_tiles, n_programs, num_stages=STAGES):
            if PREFETCH:
                x_raw, dy_raw, mean, rstd = x_next, dy_next, mean_next, rstd_next
                x_next, dy_next, mean_next, rstd_next = _variant_tile(x_ptr, dy_ptr, mean_ptr, rstd_ptr,
                                                                      tile + n_programs, n_rows, n_cols, x_stride,
                                                                      dy_stride, cols, CENTERED, ROWS)
            else:
                x_raw, dy_raw, mean, rstd = _variant_tile(x_ptr, dy_ptr, mean_ptr, rstd_ptr, tile, n_rows, n_cols,
                                                          x_stride, dy_stride, cols, CENTERED, ROWS)
            rows = tile * ROWS + tl.arange(0, ROWS)
            mask = (rows[:, None] < n_rows) & col_mask
            x = x_raw.to(tl.float32)
            dy = dy_raw.to(tl.float32)
            rstd = rstd[:, None]
            if CENTERED:
                xhat = tl.where(mask, (x - mean[:, None]) * rstd, 0.0)
            else:
                xhat = x * rstd
            wdy = dy
            if HAS_WEIGHT:
                if HOIST_W:
                    wdy = dy * w_all
                else:
                    wdy = dy * tl.load(w_ptr + cols, mask=col_mask, other=0.0).to(tl.float32)
            c1 = tl.sum(xhat * wdy, axis=1)[:, None] / n_cols
            if CENTERED:
                c2 = tl.sum(wdy, axis=1)[:, None] / n_cols
                dx = (wdy - (xhat * c1 + c2)) * rstd
            else:
                dx = (wdy - xhat * c1) * rstd
            tl.store(dx_ptr + rows.to(tl.int64)[:, None] * dx_stride + cols, dx.to(dx_ptr.dtype.element_ty),
                     mask=mask)
            dw_acc += dy * xhat
            if HAS_BIAS:
                db_acc += dy
        part = pid.to(tl.int64) * n_cols + tl.arange(0, BLOCK)
        if HAS_WEIGHT:
            tl.store(dw_ptr + part, tl.sum(dw_acc, axis=0), mask=tl.arange(0, BLOCK) < n_cols)
        if HAS_BIAS:
            tl.store(db_ptr + part, tl.sum(db_acc, axis=0), mask=tl.arange(0, BLOCK) < n_cols)


# ---- kernels and their arguments (shared by the compile workers and the timing process) --------------

class Kernels:
    """kernels/triton of this checkout, loaded as a package of its own, with the suite's specialization."""

    def __init__(self):
        if PACKAGE not in sys.modules:
            spec = importlib.util.spec_from_file_location(PACKAGE, os.path.join(SOURCE, "__init__.py"),
                                                          submodule_search_locations=[SOURCE])
            pkg = importlib.util.module_from_spec(spec)
            sys.modules[PACKAGE] = pkg
            spec.loader.exec_module(pkg)
        self.pkg = sys.modules[PACKAGE]
        self.ln = importlib.import_module(PACKAGE + ".layer_norm")
        self.rms = importlib.import_module(PACKAGE + ".rms_norm")
        self.fns = {"rms_norm_bwd_dx": self.rms.KERNELS["rms_norm_bwd_dx"],
                    "layer_norm_bwd_dx": self.ln.KERNELS["layer_norm_bwd_dx"],
                    "norm_bwd_dwdb": self.ln.KERNELS["norm_bwd_dwdb"],
                    "rms_norm_fwd": self.rms.KERNELS["rms_norm_fwd"],
                    "layer_norm_fwd": self.ln.KERNELS["layer_norm_fwd"],
                    "variant": norm_bwd_dx_variant}
        for fn in self.fns.values():
            mirror_aligned_variant(fn, self.pkg.aligned_param)


def mirror_aligned_variant(fn, aligned_param):
    """Triton's launcher specializes every int argument on divisibility by 16 (and == 1); the C++ launcher's
    aligned cubin has divisibility 16 only on the aligned_param names. Turning the others off makes the
    cubins the same, and one compile serves every n_rows and n_programs."""
    for p in getattr(fn, "params", ()):  # (the interpreter's functions have none)
        if not p.is_constexpr and not aligned_param(p.name):
            p.do_not_specialize = True


class Spec:
    """The tensors of one shape for one family: real tensors when timing, torch dtypes when compiling (Triton's
    warmup takes a dtype for a tensor argument)."""

    def __init__(self, fam, n_rows, n_cols, dtype, tensors):
        self.fam, self.n_rows, self.n_cols, self.dtype, self.t = fam, n_rows, n_cols, dtype, tensors


def dx_call(K, spec, cand, dw_part, db_part):
    """(fn, grid, args, kwargs) of the dx kernel of candidate `cand`."""
    t, fam = spec.t, spec.fam
    R, C = spec.n_rows, spec.n_cols
    if cand["variant"] == "suite":
        if fam == "rms":
            fn = K.fns["rms_norm_bwd_dx"]
            args = (t["x"], t["w"], t["dy"], t["rstd"], t["dx"], dw_part, R, C, C, C, C, cand["n_programs"])
            consts = dict(HAS_WEIGHT=True)
        else:
            fn = K.fns["layer_norm_bwd_dx"]
            args = (t["x"], t["w"], t["dy"], t["mean"], t["rstd"], t["dx"], dw_part, db_part, R, C, C, C, C,
                    cand["n_programs"])
            consts = dict(HAS_WEIGHT=True, HAS_BIAS=True)
        consts.update(ROWS=cand["ROWS"], BLOCK=cand["BLOCK"], SINGLE=cand["SINGLE"])
    else:
        fn = K.fns["variant"]
        pf, hw, stages = VARIANTS[cand["variant"]]
        ln = fam == "ln"
        args = (t["x"], t["w"], t["dy"], t["mean"] if ln else t["rstd"], t["rstd"], t["dx"], dw_part,
                db_part if ln else dw_part, R, C, C, C, C, cand["n_programs"])
        consts = dict(CENTERED=ln, HAS_WEIGHT=True, HAS_BIAS=ln, ROWS=cand["ROWS"], BLOCK=cand["BLOCK"],
                      PREFETCH=bool(pf), HOIST_W=bool(hw), STAGES=stages)
    return fn, (cand["n_programs"],), args, dict(consts, num_warps=cand["warps"], num_stages=STAGES)


def dwdb_call(K, part, out, n_part_rows, n_cols, dwdb):
    br, bc, w = dwdb
    return (K.fns["norm_bwd_dwdb"], (triton.cdiv(n_cols, bc),), (part, out, n_part_rows, n_cols),
            dict(BLOCK_R=br, BLOCK_C=bc, num_warps=w, num_stages=STAGES))


def fwd_call(K, spec, y, mean_out, rstd_out):
    t, R, C = spec.t, spec.n_rows, spec.n_cols
    c = K.pkg.row_config(C)
    consts = dict(HAS_WEIGHT=True, ROWS=c["ROWS"], BLOCK=c["BLOCK"], SINGLE=c["SINGLE"], num_warps=c["num_warps"],
                  num_stages=STAGES)
    if spec.fam == "rms":
        fn, args = K.fns["rms_norm_fwd"], (t["x"], t["w"], y, rstd_out, R, C, C, C, 1e-6)
    else:
        fn = K.fns["layer_norm_fwd"]
        args = (t["x"], t["w"], t["b"], y, mean_out, rstd_out, R, C, C, C, 1e-5)
        consts["HAS_BIAS"] = True
    return fn, (triton.cdiv(R, c["ROWS"]),), args, consts


# ---- candidates ----------------------------------------------------------------------------------------

def parse_shape(name):
    m = re.fullmatch(r"(\d+)x(\d+)-(bf16|fp32|fp16)", name)
    if not m:
        raise SystemExit(f"tune_norm_bwd: bad shape {name!r}: expected ROWSxCOLS-DTYPE, e.g. 16384x8192-bf16")
    return int(m.group(1)), int(m.group(2)), DTYPES[m.group(3)]


def current_config(K, n_rows, n_cols, n_sms):
    c = K.pkg.persistent_row_config(n_rows, n_cols, n_sms)
    dw = K.ln.config_norm_bwd_dwdb(n_cols)
    return ({"variant": "suite", "ROWS": c["ROWS"], "BLOCK": c["BLOCK"], "SINGLE": bool(c["SINGLE"]),
             "warps": c["num_warps"], "n_programs": c["n_programs"]},
            (dw["BLOCK_R"], dw["BLOCK_C"], dw["num_warps"]))


def dx_configs(K, n_cols, cur, quick):
    """[(variant, ROWS, BLOCK, SINGLE, warps)] for a row of n_cols (n_programs comes later)."""
    per_thread = lambda r, b, w: r * b // (32 * w)  # noqa: E731
    out = []
    if n_cols <= K.pkg.MAX_SINGLE_COLS:
        block = max(16, K.pkg.next_pow2(n_cols))
        wide = block >= 4096
        if quick and wide:
            rows, warps = (1, 2), (8, 16, 32)
        elif quick:
            rows, warps = (cur["ROWS"], 2 * cur["ROWS"]), (4, 8)
        else:
            rows = sorted({1, 2, 4} | {t // block for t in (2048, 4096, 8192, 16384) if t >= block})
            warps = WARPS
        base = [(r, w) for r in rows for w in warps
                if r * block <= MAX_TILE and 2 <= per_thread(r, block, w) <= 32]
        out += [("suite", r, block, True, w) for r, w in base]
        if not quick:
            out += [(v, r, block, True, w) for v in VARIANTS for r, w in base]
        elif wide:
            picks = {"pf": ((1, 16), (1, 32), (2, 32)), "hw": ((1, 16),), "ts2": ((1, 16), (2, 32))}
            out += [(v, r, block, True, w) for v, rw in picks.items() for r, w in rw if (r, w) in base]
        else:
            out += [("pf", cur["ROWS"], block, True, cur["warps"])]
    else:  # the looped path: ROWS = 1, BLOCK columns per step (the suite's kernel only)
        blocks = (K.pkg.LOOP_BLOCK,) if quick else (2048, 4096, 8192)
        out += [("suite", 1, b, False, w) for b in blocks for w in ((8, 16) if quick else WARPS)
                if 1 <= per_thread(1, b, w) <= 32]
    key = ("suite", cur["ROWS"], cur["BLOCK"], cur["SINGLE"], cur["warps"])
    if key not in out:
        out.insert(0, key)
    return out


def dx_candidates(K, n_rows, n_cols, n_sms, quick):
    cur, _ = current_config(K, n_rows, n_cols, n_sms)
    seen, out = set(), []
    for variant, r, b, single, w in dx_configs(K, n_cols, cur, quick):
        tiles = triton.cdiv(n_rows, r)
        progs = {min(tiles, n_sms * k) for k in ((1, 2, 4) if quick else KS)}
        if (variant, r, b, single, w) == ("suite", cur["ROWS"], cur["BLOCK"], cur["SINGLE"], cur["warps"]):
            progs.add(cur["n_programs"])
        for p in sorted(progs):
            key = (variant, r, b, single, w, p)
            if key not in seen:
                seen.add(key)
                out.append({"variant": variant, "ROWS": r, "BLOCK": b, "SINGLE": single, "warps": w,
                            "n_programs": p})
    return cur, out


def dwdb_candidates():
    return [(br, bc, w) for br, bc in DWDB_BLOCKS for w in DWDB_WARPS]


def err_text(e):
    """An exception's type and first line, short enough for a table and the JSON."""
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]


def ckey(c):
    return (c["variant"], c["ROWS"], c["BLOCK"], c["SINGLE"], c["warps"], c["n_programs"])


# ---- compile workers ---------------------------------------------------------------------------------

def compile_key(kind, fam, dtype, n_cols, cfg):
    """What one compile depends on: n_rows and n_programs are not specialized (mirror_aligned_variant)."""
    if kind == "dx":
        cfg = {k: v for k, v in cfg.items() if k != "n_programs"}
    return (kind, fam, dtype, n_cols % 16 == 0, tuple(sorted(cfg.items())) if isinstance(cfg, dict) else cfg)


def _compile_worker(job):
    """Compiles (warms Triton's cache with) one specialization without launching it; '' or an error."""
    kind, fam, dtype, n_cols, cfg = job
    try:
        import torch
        K = Kernels()
        dt = getattr(torch, dtype)
        t = {"x": dt, "w": dt, "b": dt, "dy": dt, "dx": dt, "mean": torch.float32, "rstd": torch.float32}
        spec = Spec(fam, 4096, n_cols, dtype, t)
        if kind == "dx":
            fn, grid, args, kw = dx_call(K, spec, dict(cfg, n_programs=132), torch.float32, torch.float32)
        elif kind == "dwdb":
            fn, grid, args, kw = dwdb_call(K, torch.float32, dt, 132, n_cols, cfg)
        else:
            fn, grid, args, kw = fwd_call(K, spec, dt, torch.float32, torch.float32)
        fn.warmup(*args, grid=grid, **kw)
        return ""
    except Exception as e:  # noqa: BLE001  (register / shared-memory limits: the candidate is skipped)
        return err_text(e)


def compile_all(jobs, n_jobs, timeout_s):
    """{compile_key: error or ''}; jobs still running at the deadline are killed and reported."""
    import multiprocessing
    errors = {}
    if not jobs:
        return errors
    t0 = time.time()
    ctx = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(max(1, n_jobs), mp_context=ctx)
    futures = {pool.submit(_compile_worker, job): key for key, job in jobs.items()}
    done, pending = cf.wait(futures, timeout=timeout_s)
    for f in done:
        try:
            errors[futures[f]] = f.result()
        except Exception as e:  # noqa: BLE001  (a worker died: BrokenProcessPool)
            errors[futures[f]] = f"{type(e).__name__}: {e}"[:300]
    for f in pending:
        errors[futures[f]] = f"compile timeout ({timeout_s:.0f} s)"
    procs = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=not pending, cancel_futures=True)
    for p in procs:  # only this pool's own workers, by handle
        if p.is_alive():
            p.kill()
    ok = sum(1 for e in errors.values() if not e)
    print(f"compiled {ok} of {len(errors)} specializations in {time.time() - t0:.1f} s with {n_jobs} processes"
          + (f" ({len(pending)} timed out)" if pending else ""), flush=True)
    return errors


# ---- timing ------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, torch, quick):
        from triton.testing import do_bench
        self.torch, self.do_bench = torch, do_bench
        self.warmup, self.rep = (3, 10) if quick else (10, 40)

    def ms(self, fn, warmup=None, rep=None):
        if DRY_RUN:  # one call's wall time
            t0 = time.perf_counter()
            fn()
            return 1000 * (time.perf_counter() - t0)
        return self.do_bench(fn, warmup=warmup or self.warmup, rep=rep or self.rep, return_mode="median")


def sync(torch):
    if DEV == "cuda":
        torch.cuda.synchronize()


def copy_gbps(torch, bench):
    n = (1 << 22) if DRY_RUN else (1 << 28)  # 1 GiB of float32 (16 MiB in a dry run)
    x = torch.empty(n, device=DEV, dtype=torch.float32)
    ms = bench.ms(lambda: x.clone(), warmup=20, rep=200)
    del x
    return 2 * 4 * n / ms / 1e6


def make_tensors(torch, fam, n_rows, n_cols, dtype):
    dt = getattr(torch, dtype)
    g = torch.Generator(device=DEV).manual_seed(0)
    x = (torch.randn(n_rows, n_cols, device=DEV, generator=g) * 2.0 + 0.5).to(dt)
    dy = torch.randn(n_rows, n_cols, device=DEV, generator=g).to(dt)
    w = (torch.randn(n_cols, device=DEV, generator=g) * 0.5 + 1.0).to(dt)
    b = (torch.randn(n_cols, device=DEV, generator=g) * 0.5).to(dt)
    xf = x.float()
    if fam == "ln":
        eps = 1e-5
        mean = xf.mean(-1)
        rstd = torch.rsqrt(xf.var(-1, unbiased=False) + eps)
    else:
        eps = torch.finfo(dt).eps  # what the adapter passes for eps=None
        mean = torch.zeros(n_rows, device=DEV)
        rstd = torch.rsqrt(xf.pow(2).mean(-1) + eps)
    del xf
    dx = torch.empty_like(x)
    return {"x": x, "dy": dy, "w": w, "b": b, "mean": mean.contiguous(), "rstd": rstd.contiguous(), "dx": dx,
            "eps": eps}


class Runner:
    """Launches full backwards of one (shape, family) on its tensors."""

    def __init__(self, torch, K, spec):
        self.torch, self.K, self.spec = torch, K, spec
        self.parts = {}
        dt = spec.t["x"].dtype
        self.dw = torch.empty(spec.n_cols, device=DEV, dtype=dt)
        self.db = torch.empty(spec.n_cols, device=DEV, dtype=dt)

    def part(self, n_programs):
        if n_programs not in self.parts:
            mk = lambda: self.torch.empty(n_programs, self.spec.n_cols, device=DEV)  # noqa: E731
            self.parts[n_programs] = (mk(), mk() if self.spec.fam == "ln" else None)
        return self.parts[n_programs]

    def launcher(self, cand, dwdb):
        """A zero-argument function that runs the whole backward, and the kernels it launches."""
        dw_part, db_part = self.part(cand["n_programs"])
        fn, grid, args, kw = dx_call(self.K, self.spec, cand, dw_part, db_part if db_part is not None else dw_part)
        cols = dwdb_call(self.K, dw_part, self.dw, cand["n_programs"], self.spec.n_cols, dwdb)
        colb = (dwdb_call(self.K, db_part, self.db, cand["n_programs"], self.spec.n_cols, dwdb)
                if db_part is not None else None)
        compiled = {}

        def run():
            compiled["dx"] = fn[grid](*args, **kw)
            cols[0][cols[1]](*cols[2], **cols[3])
            if colb is not None:
                colb[0][colb[1]](*colb[2], **colb[3])

        return run, compiled

    def outputs(self):
        out = [self.spec.t["dx"], self.dw]
        return out + ([self.db] if self.spec.fam == "ln" else [])

    def poison(self):
        for t in self.outputs():
            t.fill_(float("nan"))


def regs_info(kernel, warps, n_sms):
    """(registers, spilled bytes, programs resident per SM) of a launched CompiledKernel, when Triton says."""
    try:
        regs, spills = int(kernel.n_regs), int(kernel.n_spills)
    except Exception:  # noqa: BLE001
        return None, None, None
    threads = 32 * warps
    by_regs = 65536 // max(1, (((regs + 7) // 8) * 8) * threads)
    shared = int(getattr(kernel.metadata, "shared", 0) or 0)
    by_smem = (228 * 1024) // (shared + 1024) if shared else 64
    return regs, spills, max(0, min(by_regs, 2048 // threads, by_smem, 32))


def compare(outs, refs, dtype):
    """'' when every output matches the reference, else what differs (max abs error over max abs value)."""
    tol = TOL[dtype]
    bad = []
    for name, a, b in zip(("dx", "dw", "db"), outs, refs):
        a, b = a.float(), b.float()
        scale = b.abs().max().item() or 1.0
        if not bool(a.isfinite().all()) or not a.allclose(b, rtol=tol, atol=tol * max(1.0, scale)):
            err = (a - b).abs().nan_to_num(float("inf")).max().item() / scale
            bad.append(f"{name} {err:.1e}")
    return ("MISMATCH " + ", ".join(bad)) if bad else ""


def torch_reference(torch, fam, t, n_cols, bench):
    """(torch eager backward ms on a retained graph, [dx, dw, db] of an fp32 autograd of the same inputs)."""
    F = torch.nn.functional
    x = t["x"].detach().requires_grad_(True)
    w = t["w"].detach().requires_grad_(True)
    b = t["b"].detach().requires_grad_(True)
    if fam == "ln":
        y, leaves = F.layer_norm(x, (n_cols,), w, b, 1e-5), [x, w, b]
    else:
        y, leaves = F.rms_norm(x, (n_cols,), w), [x, w]
    ms = bench.ms(lambda: torch.autograd.grad(y, leaves, t["dy"], retain_graph=True))
    del y
    xf = t["x"].float().requires_grad_(True)
    wf = t["w"].float().requires_grad_(True)
    bf = t["b"].float().requires_grad_(True)
    if fam == "ln":
        ref = torch.autograd.grad(F.layer_norm(xf, (n_cols,), wf, bf, 1e-5), [xf, wf, bf], t["dy"].float())
    else:
        ref = torch.autograd.grad(F.rms_norm(xf, (n_cols,), wf, t["eps"]), [xf, wf], t["dy"].float())
    return ms, list(ref)


def fmt_cand(c, dwdb):
    return (f"{c['variant']:5s} {c['ROWS']:4d} {c['BLOCK']:5d}{'' if c['SINGLE'] else 'L'} {c['warps']:3d} "
            f"{c['n_programs']:5d} {str(dwdb[0]) + ',' + str(dwdb[1]) + ',' + str(dwdb[2]):>10s}")


HEADER = (f"  {'':8s} {'var':5s} {'ROWS':>4s} {'BLOCK':>5s} {'wrp':>3s} {'progs':>5s} {'dwdb R,C,w':>10s} "
          f"{'regs':>4s} {'spill':>5s} {'occ':>3s} {'bwd us':>8s} {'GB/s':>6s} {'copy%':>5s} {'f+b%':>5s}  check")


def fmt_row(label, r, copy):
    regs = "" if r.get("regs") is None else str(r["regs"])
    spill = "" if r.get("spill_bytes") is None else str(r["spill_bytes"])
    occ = "" if r.get("programs_per_sm") is None else str(r["programs_per_sm"])
    fb = "" if r.get("fwd_bwd_copy_fraction") is None else f"{100 * r['fwd_bwd_copy_fraction']:.0f}"
    return (f"  {label:8s} {fmt_cand(r['config'], r['dwdb'])} {regs:>4s} {spill:>5s} {occ:>3s} "
            f"{1000 * r['ms']:8.1f} {r['gbps']:6.0f} {100 * r['gbps'] / copy:5.0f} {fb:>5s}  "
            f"{r['check'] or 'ok'}")


def run_shape(torch, K, name, fam, n_sms, errors, bench, copy, args):
    n_rows, n_cols, dtype = parse_shape(name)
    nb = NBYTES[dtype]
    bytes_bwd, bytes_fwd = 3 * n_rows * n_cols * nb, 2 * n_rows * n_cols * nb
    t = make_tensors(torch, fam, n_rows, n_cols, dtype)
    spec = Spec(fam, n_rows, n_cols, dtype, t)
    run = Runner(torch, K, spec)
    cur, cur_dwdb = current_config(K, n_rows, n_cols, n_sms)
    _, cands = dx_candidates(K, n_rows, n_cols, n_sms, args.quick)
    label = f"{name} {FAMILIES[fam]}"
    extra = (n_cols * nb * (2 if fam == "ln" else 1) + n_rows * 4 * (2 if fam == "ln" else 1)
             + 2 * cur["n_programs"] * n_cols * 4 * (2 if fam == "ln" else 1))

    def err_of(kind, cfg):
        return errors.get(compile_key(kind, fam, dtype, n_cols, cfg), "not compiled")

    # the suite's forward, for the forward + backward figure of bench_kernel_suite
    fwd_ms = None
    if not err_of("fwd", ()):
        y = torch.empty_like(t["x"])
        so = torch.empty(n_rows, device=DEV)
        fn, grid, fargs, kw = fwd_call(K, spec, y, so, torch.empty(n_rows, device=DEV))
        try:
            fwd_ms = bench.ms(lambda: fn[grid](*fargs, **kw))
        except Exception as e:  # noqa: BLE001
            print(f"{label}: forward kernel failed: {type(e).__name__}: {e}", flush=True)
        del y, so

    def measure(cand, dwdb, refs):
        e = err_of("dx", {k: v for k, v in cand.items() if k != "n_programs"}) or err_of("dwdb", dwdb)
        if e:
            return {"config": cand, "dwdb": dwdb, "error": e}
        fn, compiled = run.launcher(cand, dwdb)
        try:
            run.poison()
            fn()
            sync(torch)
            outs = run.outputs() if refs is not None else [o.clone() for o in run.outputs()]
            check = compare(outs, refs, dtype) if refs is not None else ""
            ms = bench.ms(fn)
        except Exception as ex:  # noqa: BLE001  (out of resources at load: skipped)
            return {"config": cand, "dwdb": dwdb, "error": err_text(ex)}
        regs, spills, occ = regs_info(compiled.get("dx"), cand["warps"], n_sms)
        gbps = bytes_bwd / ms / 1e6
        r = {"config": cand, "dwdb": dwdb, "ms": ms, "gbps": gbps, "copy_fraction": gbps / copy, "regs": regs,
             "spill_bytes": spills, "programs_per_sm": occ, "check": check,
             "fwd_bwd_copy_fraction": ((bytes_fwd + bytes_bwd) / (fwd_ms + ms) / 1e6 / copy) if fwd_ms else None}
        return r, outs

    # the configured tiling: the reference of every candidate
    got = measure(cur, cur_dwdb, None)
    if isinstance(got, dict):
        print(f"{label}: the configured tiling failed: {got['error']}", flush=True)
        return {"shape": name, "family": FAMILIES[fam], "error": got["error"]}
    current, refs = got
    try:
        torch_ms, torch_ref = torch_reference(torch, fam, t, n_cols, bench)
        vs_torch = compare(refs, [r.to(o.dtype) for r, o in zip(torch_ref, refs)], dtype)
        current["check"] = f"{vs_torch} vs fp32 autograd" if vs_torch else "ok (vs fp32 autograd)"
        del torch_ref
    except Exception as e:  # noqa: BLE001  (torch's reference is for comparison only)
        print(f"{label}: torch reference failed: {type(e).__name__}: {e}", flush=True)
        torch_ms = None
    results, failed = [current], []

    def add(cand, dwdb):
        got = measure(cand, dwdb, refs)
        if isinstance(got, dict):
            failed.append(got)
        else:
            results.append(got[0])

    for cand in cands:
        if ckey(cand) != ckey(cur):
            add(cand, cur_dwdb)
    # the column sums behind the fastest dx kernels and behind the configured one
    by_time = sorted((r for r in results if not r["check"] or r is current), key=lambda r: r["ms"])
    tops = [r["config"] for r in by_time[:1 if args.quick else 3]]
    if all(ckey(c) != ckey(cur) for c in tops):
        tops.append(cur)
    for cand in tops:
        for dwdb in dwdb_candidates():
            if dwdb != cur_dwdb:
                add(cand, dwdb)
    results.sort(key=lambda r: r["ms"])
    torch_gbps = bytes_bwd / torch_ms / 1e6 if torch_ms else 0.0
    print(f"\n{label}: bwd bytes {bytes_bwd / 1e6:.1f} MB (w, mean/rstd, partial rows add {extra / 1e6:.1f} MB, "
          f"{100 * extra / bytes_bwd:.1f}%, not counted); suite fwd "
          + (f"{1000 * fwd_ms:.1f} us" if fwd_ms else "n/a")
          + (f"; torch eager bwd {1000 * torch_ms:.1f} us = {torch_gbps:.0f} GB/s "
             f"({100 * torch_gbps / copy:.0f}% of copy)" if torch_ms else "; torch eager bwd n/a")
          + f"; {len(results)} timed, {len(failed)} failed", flush=True)
    print(HEADER)
    print(fmt_row("current", current, copy))
    for i, r in enumerate(results[:args.top]):
        print(fmt_row(f"top{i + 1}" + ("=cur" if r is current else ""), r, copy))
    best = next(r for r in results if not r["check"] or r is current)  # the fastest that matches
    print(f"  best/current: {current['ms'] / best['ms']:.3f}x faster, {100 * best['copy_fraction']:.0f}% vs "
          f"{100 * current['copy_fraction']:.0f}% of copy", flush=True)
    wrong = [r for r in results if r["check"] and r is not current]
    if wrong:
        print(f"  {len(wrong)} candidates MISMATCH the configured output, e.g. "
              f"{fmt_cand(wrong[0]['config'], wrong[0]['dwdb'])}: {wrong[0]['check']}", flush=True)
    if failed and args.verbose:
        for f in failed:
            print(f"  failed {fmt_cand(f['config'], f['dwdb'])}: {f['error']}")
    return {"shape": name, "family": FAMILIES[fam], "rows": n_rows, "cols": n_cols, "dtype": dtype,
            "bytes_bwd": bytes_bwd, "bytes_fwd": bytes_fwd, "uncounted_bytes": extra,
            "suite_fwd_ms": fwd_ms, "torch_bwd_ms": torch_ms, "torch_bwd_copy_fraction": torch_gbps / copy,
            "current": current, "best": best, "candidates": results, "failed": failed}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default=",".join(DEFAULT_SHAPES),
                    help="comma-separated ROWSxCOLS-DTYPE (bf16, fp32, fp16); default: %(default)s")
    ap.add_argument("--families", default="rms,ln", help="comma-separated: rms, ln (default: both)")
    ap.add_argument("--quick", action="store_true", help="a reduced grid (about a minute on one H100)")
    ap.add_argument("--jobs", type=int, default=max(1, min(15, (os.cpu_count() or 2) - 1)),
                    help="compile processes (default: %(default)s)")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--json", default="", help="write every candidate's result here (rewritten after each shape)")
    ap.add_argument("--compile-timeout", type=float, default=0,
                    help="seconds for the whole compile phase (default 120 with --quick, else 600)")
    ap.add_argument("--time-limit", type=float, default=0,
                    help="the process exits (traceback on stderr) after this many seconds "
                         "(default 300 with --quick, else 3000; 0 keeps the default)")
    ap.add_argument("--verbose", action="store_true", help="also print the candidates that failed")
    ap.add_argument("--dry-run-cpu", action="store_true",
                    help="check the script on the CPU with Triton's interpreter (tiny --shapes; no timings)")
    args = ap.parse_args()
    shapes = [s for s in args.shapes.split(",") if s]
    for s in shapes:
        parse_shape(s)
    fams = [f for f in args.families.split(",") if f]
    if not set(fams) <= set(FAMILIES):
        raise SystemExit(f"tune_norm_bwd: --families takes {', '.join(FAMILIES)}; got {args.families!r}")
    faulthandler.dump_traceback_later(args.time_limit or (300 if args.quick else 3000), exit=True)
    try:
        import torch
    except ImportError:
        print("tune_norm_bwd: torch is not installed; nothing to measure")
        return 0
    if triton is None:
        print("tune_norm_bwd: triton is not installed; nothing to measure")
        return 0
    if DRY_RUN:
        _fix_interpreter_index()
    elif not torch.cuda.is_available():
        print(f"tune_norm_bwd: no CUDA GPU available (torch {torch.__version__}, "
              f"built with CUDA {torch.version.cuda}); nothing to measure")
        return 0
    t_start = time.time()
    K = Kernels()
    n_sms = 4 if DRY_RUN else torch.cuda.get_device_properties(0).multi_processor_count
    jobs = {}
    for name in shapes:
        n_rows, n_cols, dtype = parse_shape(name)
        for fam in fams:
            _, cands = dx_candidates(K, n_rows, n_cols, n_sms, args.quick)
            for c in cands:
                cfg = {k: v for k, v in c.items() if k != "n_programs"}
                jobs.setdefault(compile_key("dx", fam, dtype, n_cols, cfg), ("dx", fam, dtype, n_cols, cfg))
            for d in dwdb_candidates() + [current_config(K, n_rows, n_cols, n_sms)[1]]:
                jobs.setdefault(compile_key("dwdb", fam, dtype, n_cols, d), ("dwdb", fam, dtype, n_cols, d))
            jobs.setdefault(compile_key("fwd", fam, dtype, n_cols, ()), ("fwd", fam, dtype, n_cols, ()))
    if DRY_RUN:  # nothing to compile: the interpreter runs the Python
        errors = {k: "" for k in jobs}
    else:
        errors = compile_all(jobs, args.jobs, args.compile_timeout or (120 if args.quick else 600))
    bench = Bench(torch, args.quick)
    copy = copy_gbps(torch, bench)
    print(f"{device_name(torch)} ({n_sms} SMs), triton {triton.__version__}, torch {torch.__version__}; "
          f"device-to-device copy (1 GiB clone): {copy:.0f} GB/s", flush=True)
    results = []
    for name in shapes:
        for fam in fams:
            try:
                results.append(run_shape(torch, K, name, fam, n_sms, errors, bench, copy, args))
            except Exception as e:  # noqa: BLE001  (one broken shape must not hide the others)
                print(f"{name} {FAMILIES[fam]}: FAILED {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                results.append({"shape": name, "family": FAMILIES[fam], "error": f"{type(e).__name__}: {e}"})
            if DEV == "cuda":
                torch.cuda.empty_cache()
            if args.json:
                write_json(args.json, torch, copy, n_sms, args, results)
    print("\nsummary (backward = dx + column sums; % of copy bandwidth; f+b: with the suite's forward)")
    for r in results:
        if "error" in r:
            print(f"  {r['shape']:16s} {r['family']:10s} error: {r['error'][:100]}")
            continue
        c, b = r["current"], r["best"]
        def fb(x):
            f = x.get("fwd_bwd_copy_fraction")
            return "" if f is None else f" f+b {100 * f:.0f}%"

        print(f"  {r['shape']:16s} {r['family']:10s} current {1000 * c['ms']:7.1f} us {100 * c['copy_fraction']:3.0f}%"
              f"{fb(c)}  best {1000 * b['ms']:7.1f} us {100 * b['copy_fraction']:3.0f}%{fb(b)}  "
              f"[{fmt_cand(b['config'], b['dwdb'])}]  torch "
              + (f"{1000 * r['torch_bwd_ms']:7.1f} us" if r["torch_bwd_ms"] else "n/a"))
    print(f"total {time.time() - t_start:.0f} s", flush=True)
    faulthandler.cancel_dump_traceback_later()
    return 0


def device_name(torch):
    return "cpu (Triton interpreter, dry run)" if DRY_RUN else torch.cuda.get_device_name()


def _fix_interpreter_index():
    """Note [Interpreter scalar index] (tests/kernels/_families.py): NumPy >= 2.4 under the interpreter."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "kernels"))
    from _families import _fix_interpreter_index as fix
    fix()


def write_json(path, torch, copy, n_sms, args, results):
    with open(path + ".tmp", "w") as f:
        json.dump({"device": device_name(torch), "n_sms": n_sms, "triton": triton.__version__,
                   "torch": torch.__version__, "copy_gbps": copy, "argv": sys.argv, "quick": args.quick,
                   "results": results}, f, indent=1, default=str)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    sys.exit(main())
