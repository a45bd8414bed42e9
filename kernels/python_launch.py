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
from vibetensor import _C
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


def _compile_cute(key, request):
    """The launcher of one CuTe DSL specialization: its compiled host function, called as CuTe DSL's
    examples call theirs (pointers wrapped per call, the grid and the stream as arguments)."""
    import cuda.bindings.driver as cuda

    from vibetensor.kernels import cute_compiler

    names = _parameter_names(request["kernel"])
    signature = [(name, "*" + _TRITON_TYPES[dtype] if kind == "ptr" else _SCALAR_TYPES[kind])
                 for name, (kind, _value, dtype) in zip(names, request["args"])]
    capability = tuple(_C._cuda.get_device_capability(request["device"]))
    host = triton_runtime._on_device(request["device"], lambda: cute_compiler.compile_host(
        dict(request, signature=signature, capability=capability)))
    types = [t[1:] if t.startswith("*") else None for _name, t in signature]  # fixed by the key
    aligned = request["aligned"]

    def launcher(request):
        args = [cute_compiler.pointer(t, value, aligned) if t else value
                for t, (_kind, value, _dtype) in zip(types, request["args"])]
        triton_runtime._on_device(request["device"],
                                  lambda: host(*args, request["grid"][0], cuda.CUstream(request["stream"])))

    return launcher


def _parameter_names(kernel):
    """The parameter names of a built-in suite kernel, from its C++ declaration (the CuTe DSL builders
    look their dtypes up by name)."""
    for _family, name, params, _constants in _C._suite_declarations():
        if name == kernel:
            return [p for p, _kind in params]
    raise RuntimeError(f"kernels.launch=python: no C++ declaration of a CuTe DSL kernel named {kernel!r}")


_TRITON_TYPES = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16", "float64": "fp64", "int64": "i64",
                 "int32": "i32", "bool": "i1"}
_SCALAR_TYPES = {"i32": "i32", "i64": "i64", "f32": "fp32"}
_cute_cache = cache.KernelCache("suite-cute", _compile_cute)


def launch(request):
    """Launches one suite kernel from Python (called by the C++ op under kernels.launch=python)."""
    if request["backend"] == "cute":
        key = (request["kernel"], tuple(d for _k, _v, d in request["args"]), tuple(request["constants"]),
               request["warps"], request["device"], request["aligned"])
        _cute_cache.launch(key, request)
        return
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
