"""kernels.launch=python: the suite's kernels launched through Python, as VibeTensor's ops launch
theirs (Note [Python kernel launch] in csrc/ops/suite/python_launch.h).

A suite op, still in C++, takes the GIL and calls launch(request) with a dict: backend, family,
kernel, args [(kind, value, dtype)] in the kernel's parameter order (kind "ptr", "i32", "i64" or
"f32"), constants [(name, value)], warps, stages, device, grid, stream. Per call, in Python: the
arguments become Triton arguments (an object with data_ptr() and dtype per pointer, ints, floats),
the launcher is found by its specialization key in a KernelCache (kernels.cache: a lock-free read,
or the module-global "kernels.cache" lock around lookup and launch, as VibeTensor's caches), and
Triton's own launcher runs the kernel: kernel[grid](...) binds the arguments, computes its own
specialization key and reads its device cache before its C launcher calls cuLaunchKernel on
vibetensor's current stream (triton_runtime.install binds Triton's driver to it).

What this mirrors in NVlabs/vibetensor: python/vibetensor/triton.py (Triton kernels launched on
vibetensor tensors from Python) and the vibe_kernels package (Python wrappers that pack arguments
and keep kernel caches), called from the hand-written forward and backward code of its examples.
"""
from vibetensor.kernels import cache, triton_compiler, triton_runtime


def _compile(key, kernel, grid, args, constants, warps, stages, device):
    """The launcher of one specialization: Triton's JIT function bound to its launch options. Its
    first call compiles through Triton's own JIT (and Triton's on-disk cache)."""
    fn = triton_compiler.kernel_table().get(kernel)
    if fn is None:
        raise RuntimeError(f"kernels.launch=python: no Triton kernel named {kernel!r} in kernels/triton "
                           "(the C++ declaration and the Python kernel tables disagree)")

    def launcher(_kernel, grid, args, constants, warps, stages, device):
        triton_runtime._on_device(device, lambda: fn[grid](*args, num_warps=warps, num_stages=stages, **constants))

    return launcher


_cache = cache.KernelCache("suite", _compile)


def launch(request):
    """Launches one suite kernel from Python (called by the C++ op under kernels.launch=python)."""
    triton_runtime.install()
    args = []
    dtypes = []
    for kind, value, dtype in request["args"]:
        if kind == "ptr":
            args.append(triton_runtime.TritonPointer.at(value, dtype))
            dtypes.append(dtype)
        else:
            args.append(value)
    constants = dict(request["constants"])
    key = (request["kernel"], tuple(dtypes), tuple(request["constants"]), request["warps"], request["stages"],
           request["device"])
    _cache.launch(key, request["kernel"], tuple(request["grid"]), args, constants, request["warps"],
                  request["stages"], request["device"])


def cached_specializations():
    """The specialization keys the Python launch path has seen (kernel, dtypes, constants, warps, stages, device)."""
    return _cache.keys()
