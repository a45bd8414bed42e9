"""Host cost of one kernel launch by launch path, in one run on one GPU: the kernel suite's C++ path
(cuLaunchKernel on a cached function with a pre-laid argument buffer), Triton's own Python launcher,
cuda-python's cuLaunchKernel and a CuTe DSL compiled function (each where installed), and at the op
level a vibetensor op with kernels.backend=native against =triton and =cute, launched from C++ or from Python.

    python benchmarks/bench_suite_launch_cost.py [--launches 400] [--rounds 15] [--json PATH]

Each sample is the wall time of `launches` back-to-back launches of a tiny kernel divided by their
number, with a synchronize after it (outside the timing), so the GPU queue never fills; the paths
run in interleaved rounds and each reports the median over rounds.
"""
import argparse
import statistics
import time

from _cuda_bench_util import require_gpu_or_exit, write_json

vt = require_gpu_or_exit("bench_suite_launch_cost")
import triton  # noqa: E402
import triton.language as tl  # noqa: E402
from vibetensor import _C  # noqa: E402
from vibetensor.kernels import suite, triton_compiler, triton_runtime  # noqa: E402


@triton.jit
def launch_cost_axpy(x_ptr, y_ptr, n, alpha, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask) * alpha, mask=mask)


PARAMS = [("x_ptr", "ptr"), ("y_ptr", "ptr"), ("n", "i32"), ("alpha", "f32")]
N, BLOCK = 128, 128


def per_launch_us(fn, launches):
    vt.cuda.synchronize()
    t0 = time.perf_counter_ns()
    fn(launches)
    dt = time.perf_counter_ns() - t0
    vt.cuda.synchronize()
    return dt / launches / 1e3


def paths(x, y):
    out = {}
    triton_compiler.register("launch_cost_axpy", launch_cost_axpy)
    suite.install()

    def cpp(n):  # the whole loop is in C++: key, table read, cuLaunchKernel
        with vt.policy.override({"kernels.backend": "triton"}):
            _C._suite_plan("launch_cost", "launch_cost_axpy", PARAMS, ["BLOCK"], [x, y, N, 2.0], [BLOCK], 4,
                           [1, 1, 1], n)

    cpp(1)
    vt.cuda.synchronize()  # a faulting path stops here, named by the traceback
    out["C++ path (cuLaunchKernel, cached function, pre-laid arguments)"] = cpp

    def cpp_via_python(n):  # the same loop, each launch handed to Python (Note [Python kernel launch])
        with vt.policy.override({"kernels.backend": "triton", "kernels.launch": "python"}):
            _C._suite_plan("launch_cost", "launch_cost_axpy", PARAMS, ["BLOCK"], [x, y, N, 2.0], [BLOCK], 4,
                           [1, 1, 1], n)

    cpp_via_python(1)
    vt.cuda.synchronize()  # a faulting path stops here, named by the traceback
    out["kernels.launch=python from C++ (GIL, Python cache, Triton launcher)"] = cpp_via_python

    triton_runtime.install()
    xp, yp = triton_runtime.TritonPointer(x), triton_runtime.TritonPointer(y)

    def triton_launcher(n):
        for _ in range(n):
            launch_cost_axpy[(1,)](xp, yp, N, 2.0, BLOCK=BLOCK, num_warps=4)

    triton_launcher(1)
    vt.cuda.synchronize()  # a faulting path stops here, named by the traceback
    out[f"Triton {triton.__version__} Python launcher (kernel[grid](...))"] = triton_launcher

    try:
        from cuda.bindings import driver as cu
    except ImportError:
        cu = None
    if cu is not None:
        import ctypes

        import numpy as np

        req = {"backend": "triton", "family": "launch_cost", "kernel": "launch_cost_axpy",
               "signature": [("x_ptr", "*fp32"), ("y_ptr", "*fp32"), ("n", "i32"), ("alpha", "fp32")],
               "constants": [("BLOCK", BLOCK)], "warps": 4, "stages": 3,
               "capability": vt.cuda.get_device_capability(0)}
        img = triton_compiler.compile_request(req)
        err, mod = cu.cuModuleLoadData(img["image"])
        if err != cu.CUresult.CUDA_SUCCESS:
            raise RuntimeError(f"cuModuleLoadData: {err}")
        err, fn = cu.cuModuleGetFunction(mod, img["symbol"].encode())
        if err != cu.CUresult.CUDA_SUCCESS:
            raise RuntimeError(f"cuModuleGetFunction: {err}")
        stream = vt.cuda.current_stream().cuda_stream
        args = [np.array([x.data_ptr()], dtype=np.uint64), np.array([y.data_ptr()], dtype=np.uint64),
                np.array([N], dtype=np.int32), np.array([2.0], dtype=np.float32),
                np.array([0], dtype=np.uint64), np.array([0], dtype=np.uint64)]
        ptrs = np.array([a.ctypes.data for a in args], dtype=np.uint64)

        def cuda_python(n, _keep=args):  # cuLaunchKernel reads the argument values through `ptrs`: keep them alive
            for _ in range(n):
                cu.cuLaunchKernel(fn, 1, 1, 1, 128, 1, 1, 0, stream, ptrs.ctypes.data, 0)

        cuda_python(1)
        vt.cuda.synchronize()  # a faulting path stops here, named by the traceback
        out["cuda-python cuLaunchKernel"] = cuda_python
        del ctypes
    else:
        out["cuda-python cuLaunchKernel"] = "cuda-python is not installed on this machine"

    try:
        import cutlass  # noqa: F401
        import cutlass.cute as cute
    except ImportError:
        cute = None
    if cute is not None:
        out["CuTe DSL compiled function"] = _cute_path(cute, x, y)
    else:
        out["CuTe DSL compiled function"] = "nvidia-cutlass-dsl is not installed on this machine"

    import vibetensor.nn.functional as F

    small = vt.randn(8, 128, device="cuda")
    combos = [("native", "cpp"), ("triton", "cpp"), ("triton", "python")]
    if suite.installed("cute"):  # the CuTe DSL softmax: its cubin from C++, or its compiled host function
        combos += [("cute", "cpp"), ("cute", "python")]
    for backend, launch in combos:
        def op(n, backend=backend, launch=launch):
            with vt.policy.override({"kernels.backend": backend, "kernels.launch": launch}):
                for _ in range(n):
                    F.softmax(small, -1)
        op(2)
        vt.cuda.synchronize()  # a faulting path stops here, named by the traceback
        out[f"vt softmax op (8x128), kernels.backend={backend}" + (", kernels.launch=python" if launch == "python" else "")] = op
    return out


def _cute_path(cute, x, y):
    """A CuTe DSL elementwise kernel compiled once with cute.compile; the compiled function's call."""
    import cutlass
    from cutlass.cute.runtime import from_dlpack

    @cute.kernel
    def scale_kernel(gx: cute.Tensor, gy: cute.Tensor):
        tidx, _, _ = cute.arch.thread_idx()
        gy[tidx] = gx[tidx] * cutlass.Float32(2.0)

    @cute.jit
    def scale(gx: cute.Tensor, gy: cute.Tensor):
        scale_kernel(gx, gy).launch(grid=(1, 1, 1), block=(N, 1, 1))

    import torch

    tx, ty = torch.from_dlpack(x), torch.from_dlpack(y)
    cx, cy = from_dlpack(tx), from_dlpack(ty)
    compiled = cute.compile(scale, cx, cy)

    def cute_call(n):
        for _ in range(n):
            compiled(cx, cy)

    cute_call(1)
    vt.cuda.synchronize()  # a faulting path stops here, named by the traceback
    return cute_call


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--launches", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    x = vt.randn(N, device="cuda")
    y = vt.empty(N, device="cuda")
    ps = {}
    for name, fn in paths(x, y).items():
        try:
            if callable(fn):
                fn(2)
                vt.cuda.synchronize()
        except Exception as e:  # noqa: BLE001  (a path that fails is reported, the others still measured)
            fn = f"failed: {type(e).__name__}: {e}"
        ps[name] = fn
    samples = {name: [] for name, fn in ps.items() if callable(fn)}
    for _ in range(a.rounds):
        for name in samples:
            samples[name].append(per_launch_us(ps[name], a.launches))
    rows = []
    print(f"host cost per launch on {vt.cuda.get_device_name(0)} (median of {a.rounds} rounds x {a.launches} launches)")
    for name, fn in ps.items():
        if callable(fn):
            us = statistics.median(samples[name])
            rows.append({"path": name, "us_per_launch": us, "rounds": samples[name]})
            print(f"  {us:8.2f} us  {name}")
        else:
            rows.append({"path": name, "us_per_launch": None, "note": fn})
            print(f"       n/a  {name}: {fn}")
    write_json(a.json, rows)


if __name__ == "__main__":
    main()
