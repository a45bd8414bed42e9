"""The attention family's Triton kernels (kernels/triton/attention.py) without a GPU: run by Triton's
interpreter on the CPU against torch's scaled_dot_product_attention, forward and backward, on small
shapes and [B, T, H, D] views; and compiled for sm_90 at the blocks their config_* functions give,
which must need no global scratch (the C++ launcher passes none) and fit an H100's shared memory.

The interpreter runs in a subprocess of its own: TRITON_INTERPRET must be set before triton is
imported, and it must not leak into other tests of the session."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

FOLDER = Path(__file__).resolve().parents[2] / "kernels" / "triton"
H100_SHARED_BYTES = 228 * 1024

# Loads kernels/triton/attention.py by path: the source folder's kernels, whatever is installed; as a
# module of the folder's package, since it imports the shared tile product (kernels/triton/_dot.py).
LOAD = textwrap.dedent(f"""
    import importlib, importlib.util, json, sys
    spec = importlib.util.spec_from_file_location("vt_triton_kernels", {str(FOLDER / "__init__.py")!r},
                                                  submodule_search_locations=[{str(FOLDER)!r}])
    sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sys.modules[spec.name])
    A = importlib.import_module("vt_triton_kernels.attention")
""")

INTERPRET = LOAD + textwrap.dedent("""
    import numpy as np
    import torch
    import triton
    from triton.runtime import interpreter

    # Triton 3.6's interpreter turns a loop bound into an int with int() of a 1-element array, which
    # numpy >= 2.4 refuses; read the element instead.
    _patch = interpreter._patch_lang_tensor
    def _patch_index(tensor, scope):
        _patch(tensor, scope)
        scope.set_attr(tensor, "__index__", lambda self: int(np.asarray(self.handle.data).reshape(-1)[0]))
    interpreter._patch_lang_tensor = _patch_index

    def strides(t):
        return t.stride(0), t.stride(1), t.stride(2)

    def case(B, H, T, D, causal, dtype):
        g = torch.Generator().manual_seed(T * 131 + D + causal)
        # [B, T, H, D] tensors seen as [B, H, T, D]: strided views, as the C++ ops pass them.
        q, k, v = (torch.randn(B, T, H, D, generator=g).to(dtype).transpose(1, 2) for _ in range(3))
        do = torch.randn(B, H, T, D, generator=g).to(dtype)
        scale = D ** -0.5
        nbytes = q.element_size()
        o, dq, dk, dv = (torch.empty(B, H, T, D, dtype=dtype) for _ in range(4))
        lse, delta = torch.empty(B, H, T), torch.empty(B, H, T)
        bm, bn, _, _ = A.config_attn_fwd(T, D, nbytes, causal)
        A.attn_fwd[(triton.cdiv(T, bm), B * H)](q, k, v, o, lse, *strides(q), *strides(k), *strides(v), H, T, scale,
                                                HEAD_DIM=D, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal, PRECISION=int(dtype == torch.float32))
        pm, _, _ = A.config_attn_bwd_pre(T, D, nbytes, causal)
        A.attn_bwd_pre[(triton.cdiv(T, pm), B * H)](o, do, delta, *strides(o), *strides(do), H, T, HEAD_DIM=D, BLOCK_M=pm)
        bm, bn, _, _ = A.config_attn_bwd_dkdv(T, D, nbytes, causal)
        A.attn_bwd_dkdv[(triton.cdiv(T, bn), B * H)](q, k, v, do, lse, delta, dk, dv, *strides(q), *strides(k),
                                                     *strides(v), *strides(do), H, T, scale,
                                                     HEAD_DIM=D, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal, PRECISION=int(dtype == torch.float32))
        bm, bn, _, _ = A.config_attn_bwd_dq(T, D, nbytes, causal)
        A.attn_bwd_dq[(triton.cdiv(T, bm), B * H)](q, k, v, do, lse, delta, dq, *strides(q), *strides(k), *strides(v),
                                                   *strides(do), H, T, scale,
                                                   HEAD_DIM=D, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=causal, PRECISION=int(dtype == torch.float32))
        # The reference in float64 from the same (rounded) inputs.
        qr, kr, vr = (x.detach().double().requires_grad_() for x in (q, k, v))
        ref = torch.nn.functional.scaled_dot_product_attention(qr, kr, vr, is_causal=causal, scale=scale)
        s = (qr @ kr.transpose(-1, -2)) * scale
        if causal:
            s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        ref.backward(do.double())
        pairs = {"out": (o, ref), "lse": (lse, s.logsumexp(-1)), "dq": (dq, qr.grad), "dk": (dk, kr.grad),
                 "dv": (dv, vr.grad)}
        return {name: float((a.double() - b.detach()).abs().max() / (1 + b.detach().abs().max()))
                for name, (a, b) in pairs.items()}

    results = []
    for dtype, B, H, T, D, causal in json.loads(sys.argv[1]):
        results.append(case(B, H, T, D, causal, getattr(torch, dtype)))
    print(json.dumps(results))
""")

COMPILE = LOAD + textwrap.dedent("""
    import time
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    def signature(fn, dtype, constants):
        sig = {}
        for p in fn.params:
            if p.is_constexpr:
                sig[p.name] = "constexpr"
            elif p.name in ("lse_ptr", "delta_ptr"):
                sig[p.name] = "*fp32"
            elif p.name.endswith("_ptr"):
                sig[p.name] = "*" + dtype
            else:
                sig[p.name] = "i64" if p.name.startswith("stride_") else ("fp32" if p.name == "scale" else "i32")
        names = [p.name for p in fn.params]
        return sig, {(names.index(n),): v for n, v in constants.items()}

    out = []
    for name, label, T, D, causal in json.loads(sys.argv[1]):
        # "tf32x3": float32 operands with PRECISION 2 (kernels.fp32_matmul=tf32x3)
        fn, config = A.KERNELS[name], A.CONFIGS[name]
        dtype = "fp32" if label == "tf32x3" else label
        nbytes = 4 if dtype == "fp32" else 2
        if name == "attn_bwd_pre":
            bm, warps, stages = config(T, D, nbytes, causal)
            constants = {"HEAD_DIM": D, "BLOCK_M": bm}
        else:
            bm, bn, warps, stages = config(T, D, nbytes, causal)
            constants = {"HEAD_DIM": D, "BLOCK_M": bm, "BLOCK_N": bn, "CAUSAL": causal,
                         "PRECISION": 2 if label == "tf32x3" else int(dtype == "fp32")}
        sig, constexprs = signature(fn, dtype, constants)
        t0 = time.perf_counter()
        k = triton.compile(ASTSource(fn=fn, signature=sig, constexprs=constexprs), target=GPUTarget("cuda", 90, 32),
                           options={"num_warps": warps, "num_stages": stages})
        out.append({"kernel": name, "dtype": label, "T": T, "D": D, "shared": k.metadata.shared,
                    "scratch": k.metadata.global_scratch_size, "seconds": time.perf_counter() - t0})
    print(json.dumps(out))
""")


def _run(script, cases, interpret):
    env = dict(os.environ)
    env.pop("TRITON_INTERPRET", None)
    if interpret:
        env["TRITON_INTERPRET"] = "1"
    r = subprocess.run([sys.executable, "-c", script, json.dumps(cases)], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


# fp32 (the kernels' full-precision products) and fp16 (rounded P and dS, as on the GPU); bf16 is
# left to the GPU tests: Triton 3.6's interpreter reads bf16 tensors wrongly.
INTERPRETED = [(dtype, 2, 3, T, D, causal) for dtype in ("float32",) for T in (1, 17, 64) for D in (16, 32)
               for causal in (False, True)] + [("float16", 1, 2, T, 16, causal) for T in (17, 64) for causal in (False, True)]
TOL = {"float32": 1e-5, "float16": 5e-3}


def test_interpreted_kernels_match_torch_forward_and_backward():
    results = _run(INTERPRET, INTERPRETED, interpret=True)
    bad = [(case, errs) for case, errs in zip(INTERPRETED, results) if max(errs.values()) > TOL[case[0]]]
    assert not bad, f"(dtype, B, H, T, D, causal) -> relative max error, over the tolerance: {bad}"


def test_kernels_compile_for_sm90_without_scratch_and_fit_shared_memory():
    pytest.importorskip("triton.backends.nvidia")
    cases = [(name, dtype, T, D, True) for name in ("attn_fwd", "attn_bwd_pre", "attn_bwd_dkdv", "attn_bwd_dq")
             for dtype in ("fp32", "bf16") for D in (32, 64, 128) for T in (128, 2048)]
    cases += [(name, "tf32x3", T, 32, causal) for name in ("attn_fwd", "attn_bwd_dkdv", "attn_bwd_dq")
              for T, causal in ((64, True), (80, False), (128, True))]  # the workloads' float32 shapes
    results = _run(COMPILE, cases, interpret=False)
    for r in results:
        assert r["scratch"] == 0, f"{r['kernel']} ({r['dtype']}, D={r['D']}) needs global scratch: {r}"
        assert r["shared"] <= H100_SHARED_BYTES, f"{r['kernel']} ({r['dtype']}, D={r['D']}) needs {r['shared']} B of shared memory"
    slowest = max(results, key=lambda r: r["seconds"])
    print(f"compiled {len(results)} specializations in {sum(r['seconds'] for r in results):.1f}s; slowest "
          f"{slowest['kernel']} {slowest['dtype']} D={slowest['D']}: {slowest['seconds']:.1f}s")


def test_configs_are_pure_and_tile_the_head_dims():
    env = dict(os.environ)
    env.pop("TRITON_INTERPRET", None)
    script = LOAD + textwrap.dedent("""
        out = []
        for name, config in A.CONFIGS.items():
            for D in A.HEAD_DIMS:
                for nbytes in (4, 2):
                    for T in (1, 64, 77, 128, 2048):
                        for causal in (True, False):
                            c = config(T, D, nbytes, causal)
                            assert c == config(T, D, nbytes, causal), (name, c)
                            out.append(list(c))
        print(json.dumps(out))
    """)
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-4000:]
    for c in json.loads(r.stdout.strip().splitlines()[-1]):
        blocks, (warps, stages) = c[:-2], c[-2:]
        assert all(b >= 16 and b & (b - 1) == 0 for b in blocks) and warps in (1, 2, 4, 8) and 1 <= stages <= 8
