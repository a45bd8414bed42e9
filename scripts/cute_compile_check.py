"""Compiles every CuTe DSL kernel of the suite (kernels/cute) for a sweep of specializations on a machine
without a GPU, and checks what the C++ launcher relies on (Note [CuTe DSL kernels on the C++ launch path]):

- the cubin's one entry takes exactly the C++ declaration's parameters (.u64 per pointer, .u32 / .u64 / .f32
  per scalar);
- the aligned variant uses 128-bit global accesses (ld/st.global.v4), the generic one does not need them;
- registers and spills per kernel, from ptxas -v when ptxas is on PATH.

    python scripts/cute_compile_check.py [--widths 36,128,1000,8192,32000] [--dtypes fp32,bf16] [--kernels softmax_fwd,...]

Needs vibetensor and nvidia-cutlass-dsl (the `cute` extra) in the same Python. Development only: CuTe DSL
refuses to compile without a CUDA driver, so this script skips that check (a private hook of the DSL) and
takes the PTX and cubin that `cute.compile` writes before it would load them; a kernel that compiles here can
still fail on a GPU, so the GPU tests (tests/gpu/test_suite_cute.py) decide. Exits 1 on any failure.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile


def _without_driver():
    """Lets cute.compile run to its PTX and cubin without libcuda (it fails when loading them, after)."""
    import cutlass.base_dsl.compiler as dsl_compiler

    dsl_compiler.Compiler._check_cuda_dependencies_once = lambda self, libs: None


def _config(kernel, n_cols, n_sms=132):
    from vibetensor.kernels import triton as tiles

    if kernel == "norm_bwd_dwdb":
        return {"BLOCK_R": 32, "BLOCK_C": 64, "num_warps": 4}
    if kernel.endswith("_bwd_dx"):
        return tiles.persistent_row_config(16384, n_cols, n_sms)
    c = tiles.row_config(n_cols)
    if kernel == "cross_entropy_bwd":
        c.pop("SINGLE")
    return c


# Pointer parameters whose dtype is fixed by the contract (kernels/triton/<family>.py docstrings).
FIXED = {"target_ptr": "i64", "bad_ptr": "i64", "loss_ptr": "fp32", "lse_ptr": "fp32", "rstd_ptr": "fp32",
         "mean_ptr": "fp32", "dloss_ptr": "fp32", "partial_ptr": "fp32", "dw_ptr": "fp32", "db_ptr": "fp32"}
FLAGS = {"HAS_WEIGHT": 1, "HAS_BIAS": 1, "CHECK": 1}
PTX_PARAM = {"ptr": "u64", "i32": "u32", "i64": "u64", "f32": "f32"}


def check_one(kernel, params, constants, n_cols, dtype, aligned, cute_compiler, cutlass, cute):
    c = _config(kernel, n_cols)
    signature = [(n, "*" + FIXED.get(n, dtype) if k == "ptr" else {"f32": "fp32"}.get(k, k)) for n, k in params]
    consts = [(n, c[n] if n in c else FLAGS.get(n, int(kernel.startswith("log_")) if n == "LOG" else 0))
              for n in constants]
    request = {"backend": "cute", "kernel": kernel, "signature": signature, "constants": consts,
               "warps": c["num_warps"], "stages": 3, "capability": (9, 0), "aligned": aligned}
    spec = cute_compiler.spec_of(request)
    host, _smem = cute_compiler.kernel_table()[kernel](spec)
    d = tempfile.mkdtemp(prefix="vt-cute-check-")
    try:
        try:
            cute.compile(host, *cute_compiler._example_args(spec, request, cutlass),
                         options=f"--keep-ptx --keep-cubin --gpu-arch=sm_90a --dump-dir={d}")
        except RuntimeError as e:  # compiled; loading it needs the driver
            if not glob.glob(os.path.join(d, "*.cubin")):
                raise
            del e
        ptx = open(glob.glob(os.path.join(d, "*.ptx"))[0], errors="replace").read().replace("\0", "")
        entry = re.search(r"\.entry\s+\w+\((.*?)\)", ptx, re.S)
        got = re.findall(r"\.param\s+\.(\w+)", entry.group(1)) if entry else []
        want = [PTX_PARAM[k] for _n, k in params]
        vec = len(re.findall(r"(?:ld|st)\.global(?:\.\w+)*\.v[24]\.", ptx))
        regs = ""
        if shutil.which("ptxas"):
            path = os.path.join(d, "clean.ptx")
            open(path, "w").write(ptx)
            out = subprocess.run(["ptxas", "-arch=sm_90a", "-v", path, "-o", os.devnull], capture_output=True,
                                 text=True).stderr
            r = re.findall(r"Used (\d+) registers", out)
            s = re.findall(r"(\d+) bytes spill stores", out)
            regs = f" regs={r[0] if r else '?'} spill={s[0] if s else '?'}"
        problems = []
        if got != want:
            problems.append(f"entry parameters {got}, expected {want}")
        if aligned and not vec:
            problems.append("no 128-bit global accesses in the aligned variant")
        return problems, f"vec={vec}{regs}"
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", default="36,128,1000,8192,32000")
    ap.add_argument("--dtypes", default="fp32,bf16,fp16")
    ap.add_argument("--kernels", default="", help="comma-separated kernel names (default: every CuTe DSL kernel)")
    a = ap.parse_args(argv)
    try:
        import cutlass
        import cutlass.cute as cute
    except ImportError:
        print("cute_compile_check: nvidia-cutlass-dsl is not installed (pip install 'vibetensor[cute]')")
        return 1
    _without_driver()
    from vibetensor import _C
    from vibetensor.kernels import cute_compiler

    table = cute_compiler.kernel_table()
    wanted = set(filter(None, a.kernels.split(",")))
    seen, failures = set(), 0
    for _family, kernel, params, constants in _C._suite_declarations():
        if kernel not in table or kernel in seen or (wanted and kernel not in wanted):
            continue
        seen.add(kernel)
        for n_cols in (int(w) for w in a.widths.split(",")):
            for dtype in a.dtypes.split(","):
                for aligned in (False, True):
                    tag = f"{kernel} n_cols={n_cols} {dtype} {'aligned' if aligned else 'generic'}"
                    try:
                        problems, info = check_one(kernel, params, constants, n_cols, dtype, aligned,
                                                   cute_compiler, cutlass, cute)
                    except Exception as e:  # noqa: BLE001  (every specialization is reported)
                        problems, info = [f"{type(e).__name__}: {str(e)[:200]}"], ""
                    failures += bool(problems)
                    print(f"{'FAIL' if problems else 'ok  '} {tag}: {info} {'; '.join(problems)}", flush=True)
    print(f"{len(seen)} kernels, {failures} failing specializations")
    return 1 if failures or not seen else 0


if __name__ == "__main__":
    sys.exit(main())
