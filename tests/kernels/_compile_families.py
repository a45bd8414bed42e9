"""Compiles every KERNELS entry of kernels/triton/ to an sm_90 cubin from an explicit signature, as the
ahead-of-time build does (no GPU needed), and prints one JSON line per compile.

Run without TRITON_INTERPRET (the kernels must be JITFunctions). Usage: python _compile_families.py
[n_processes]. The signature of a parameter follows from its name (Note [Parameter types by name])."""
import concurrent.futures
import inspect
import json
import os
import re
import sys
import time

from _families import FAMILIES, PACKAGE, family

# Note [Parameter types by name]
# The suite names its parameters consistently, so the types of the launch contracts can be derived:
# pointers end in _ptr and point to the tensor dtype T unless listed below; sizes are i32 except the
# flat element count n; strides and ignore_index are i64; eps and scale are fp32.
F32_POINTERS = {"mean_ptr", "rstd_ptr", "dw_ptr", "db_ptr", "partial_ptr", "loss_ptr", "lse_ptr", "dloss_ptr",
                "norm_coef_ptr"}
I64_POINTERS = {"target_ptr", "bad_ptr", "rows_ptr", "idx_ptr", "sorted_idx_ptr", "sorted_pos_ptr"}
I32 = {"n_rows", "n_cols", "n_programs", "n_part_rows", "n_heads", "n_pos", "n_m", "n_n", "n_k", "n_partial"}
# the elementwise kernel's merged sizes d1..d3 and per-operand strides xs0..os3
I64 = {"n", "ignore_index", "d1", "d2", "d3", "n_weights"} | {f"{o}s{d}" for o in "xyo" for d in range(4)}
FP32 = {"eps", "scale", "alpha", "scalar"}
# the optimizer steps' scalars (kernels/triton/optim.py)
FP32 |= {"lr", "lr_decay", "weight_decay", "beta1", "one_minus_beta1", "beta2", "one_minus_beta2", "step_size",
         "bc2_sqrt", "momentum", "one_minus_dampening", "max_norm"}
DTYPES = {"float32": "fp32", "bfloat16": "bf16"}
# (n_rows, n_cols) the configs are taken at: short rows, the widest single-pass row, the looped path
SHAPES = [(4096, 128), (16384, 8192), (64, 65536)]
N_SMS = 132


def param_type(name, t):
    if name.endswith("_ptr"):
        return "*fp32" if name in F32_POINTERS else "*i64" if name in I64_POINTERS else "*" + t
    if name.endswith("_stride") or name.startswith("stride_") or name in I64:
        return "i64"
    if name in I32:
        return "i32"
    if name in FP32:
        return "fp32"
    raise KeyError(f"no type for parameter {name!r}")


def config(module, name, n_rows, n_cols):
    fn = getattr(module, f"config_{name}")
    args = {"n": n_rows * n_cols, "n_rows": n_rows, "n_cols": n_cols, "n_sms": N_SMS, "n_m": n_rows, "n_n": n_cols,
            "n_k": n_cols, "dtype_bytes": 4, "precision": 1}
    return fn(*[args[p] for p in inspect.signature(fn).parameters])


def jobs():
    """(family, name, dtype, n_rows, n_cols, aligned): every kernel at every shape in fp32, at the first
    and last in bf16, generic and aligned."""
    for fam in FAMILIES:
        for name in family(fam).KERNELS:
            for dtype in DTYPES:
                for n_rows, n_cols in SHAPES if dtype == "float32" else SHAPES[::2]:
                    for aligned in (False, True):
                        yield fam, name, dtype, n_rows, n_cols, aligned


def compile_one(job):
    import triton
    from triton.backends.compiler import GPUTarget

    fam, name, dtype, n_rows, n_cols, aligned = job
    module = family(fam)
    aligned_param = sys.modules[PACKAGE].aligned_param
    fn = module.KERNELS[name]
    c = config(module, name, n_rows, n_cols)
    fixed = {"LOG": getattr(module, "LOG", {}).get(name, 0), "HAS_WEIGHT": True, "HAS_BIAS": True,
             "APPROX": int(name in ("gelu_fwd", "bias_gelu_bwd")), "CHECK": 1, "INVERSE": 0,
             # row-major operands (the aligned variant's vector loads need a unit stride), contiguous add
             "IEEE": 1, "PRECISION": 1, "A_UNIT": 1, "B_UNIT": 1, "OPCODE": 0, "SCALAR": 0, "FLAT": 1,
             # AdamW with decoupled decay, SGD with momentum after its first step; the table's addresses
             # are declared 16-byte aligned in the aligned variant
             "DECAY": 1, "AMSGRAD": 0, "MAXIMIZE": 0, "MOMENTUM": 1, "FIRST": 0, "NESTEROV": 0, "HAS_DECAY": 1,
             "ALIGNED": int(aligned)}
    signature, constexprs, attrs = {}, {}, {}
    for i, p in enumerate(fn.params):
        if p.is_constexpr:
            signature[p.name] = "constexpr"
            constexprs[(i,)] = c[p.name] if p.name in c else fixed[p.name]
        else:
            signature[p.name] = param_type(p.name, DTYPES[dtype])
            if aligned and aligned_param(p.name):
                attrs[(i,)] = [["tt.divisibility", 16]]
    start = time.perf_counter()
    compiled = triton.compile(triton.compiler.ASTSource(fn=fn, signature=signature, constexprs=constexprs,
                                                                attrs=attrs),
                              target=GPUTarget("cuda", 90, 32),
                              options={"num_warps": c["num_warps"], "num_stages": c.get("num_stages", 3)})
    md = compiled.metadata
    ptx = compiled.asm["ptx"]
    return {"kernel": name, "dtype": dtype, "shape": [n_rows, n_cols], "aligned": aligned, "signature": signature,
            "vector_loads": "ld.global.v" in ptx or bool(re.search(r"cp\.async\.\w+\.shared\.global[^\n]*, 0x10", ptx)), "aligned_params": [fn.params[k[0]].name for k in attrs],
            "constexprs": {fn.params[k[0]].name: v for k, v in constexprs.items()}, "num_warps": md.num_warps,
            "global_scratch_size": md.global_scratch_size, "shared": md.shared, "cubin_bytes": len(compiled.asm["cubin"]),
            "seconds": round(time.perf_counter() - start, 2)}


def main():
    assert not os.environ.get("TRITON_INTERPRET"), "compile without TRITON_INTERPRET"
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        for result in pool.map(compile_one, list(jobs())):
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
