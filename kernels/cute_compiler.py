"""The CuTe DSL compiler of the kernel suite's C++ launch path (kernels.backend=cute).

C++ asks for a specialization the first time it launches it, with the same request the Triton compiler
gets (kernels/triton_compiler.py): the kernel's name, its explicit signature and constexprs, warps, the
device's compute capability and whether the aligned variant is wanted. This module builds the kernel of
that name from kernels/cute/<family>.py, compiles its host function with ``cute.compile``, keeps the
cubin (Note [CuTe DSL kernels on the C++ launch path] in kernels/cute/__init__.py) and returns it with
its entry symbol, or reads both from the disk cache shared with the Triton compiler. The compiled host
function stays in this process for kernels.launch=python, which calls it as CuTe DSL's own launcher.
"""
import functools
import hashlib
import re
import tempfile
import threading
from pathlib import Path

from vibetensor.kernels import triton_compiler
from vibetensor.kernels.cute import KernelSpec

_table = None
_table_lock = threading.Lock()
_POINTER_TYPES = ("fp32", "fp16", "bf16", "fp64", "i64", "i32", "i1")
_SCALAR_TYPES = ("i32", "i64", "fp32")


def kernel_table():
    """{kernel name: build(spec)} over every family module in kernels/cute (imports cutlass)."""
    global _table
    with _table_lock:
        if _table is None:
            from vibetensor.kernels import cute as families

            _table = triton_compiler.collect_kernels(families, "CuTe DSL")
        return _table


def families_served(declarations):
    """The families whose every declared kernel has a CuTe DSL build: what the cute backend serves (the
    others run natively under kernels.backend=cute, and the report says so). `declarations`: the
    (family, kernel, params, constants) rows of _C._suite_declarations()."""
    table = kernel_table()
    kernels = {}
    for family, kernel, _params, _constants in declarations:
        kernels.setdefault(family, set()).add(kernel)
    return sorted(f for f, names in kernels.items() if names <= table.keys())


def spec_of(request):
    """The KernelSpec a build function gets for a C++ compile request (ValueError on a type the CuTe
    kernels do not take)."""
    dtypes, scalars = {}, {}
    for name, t in request["signature"]:
        if t.startswith("*"):
            if t[1:] not in _POINTER_TYPES:
                raise ValueError(f"kernel suite: {request['kernel']} parameter {name} points to {t[1:]}; "
                                 f"expected one of {', '.join(_POINTER_TYPES)}")
            dtypes[name] = t[1:]
        else:
            if t not in _SCALAR_TYPES:
                raise ValueError(f"kernel suite: {request['kernel']} parameter {name} is {t}; expected one of "
                                 f"{', '.join(_SCALAR_TYPES)}")
            scalars[name] = t
    return KernelSpec(kernel=request["kernel"], dtypes=dtypes, scalars=scalars, constants=dict(request["constants"]),
                      warps=int(request["warps"]), aligned=bool(request.get("aligned", False)))


def gpu_arch(capability):
    """CuTe DSL's target for a compute capability: sm_90a on Hopper, sm_100a on Blackwell (the
    architecture-specific targets its kernels may use), sm_XY before them."""
    major, minor = capability
    return f"sm_{major}{minor}a" if major >= 9 else f"sm_{major}{minor}"


def entry_symbol(ptx):
    """The one kernel entry of a CuTe DSL module's PTX (a RuntimeError unless there is exactly one)."""
    names = re.findall(r"^\s*\.visible\s+\.entry\s+([A-Za-z_$][\w$]*)\s*\(", ptx, flags=re.M)
    if len(names) != 1:
        raise RuntimeError(f"kernel suite: expected one kernel entry in the CuTe DSL module, found {names}")
    return names[0]


@functools.lru_cache(maxsize=1)
def _source_hash():
    """The sources of every CuTe DSL kernel module (a change to a shared helper recompiles all); read once
    per process, not on every compile request."""
    from vibetensor.kernels import cute as families

    h = hashlib.sha256()
    for path in sorted(Path(families.__path__[0]).glob("*.py")):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def pointer(type_name, address, aligned):
    """A CuTe DSL global-memory pointer to `type_name` ("fp32", "bf16", "i64", ...) elements at `address`,
    16-byte aligned in the aligned variant, element-aligned otherwise: what cute.compile traces with and
    what kernels.launch=python passes per call."""
    import cutlass
    import cutlass.cute as cute
    from cutlass.cute.runtime import make_ptr

    elem = {"fp32": cutlass.Float32, "fp16": cutlass.Float16, "bf16": cutlass.BFloat16, "fp64": cutlass.Float64,
            "i64": cutlass.Int64, "i32": cutlass.Int32, "i1": cutlass.Boolean}[type_name]
    return make_ptr(elem, address, cute.AddressSpace.gmem, assumed_align=16 if aligned else max(1, elem.width // 8))


def _example_args(spec, request, cutlass):
    """Arguments cute.compile traces the host function with: pointers carrying the dtype and alignment
    of the specialization, zero scalars, the grid and a stream placeholder."""
    from cutlass.cute.runtime import make_fake_stream

    scalar = {"i32": cutlass.Int32(0), "i64": cutlass.Int64(0), "fp32": cutlass.Float32(0.0)}
    args = [pointer(t[1:], 0, spec.aligned) if t.startswith("*") else scalar[t] for _name, t in request["signature"]]
    return args + [cutlass.Int32(1), make_fake_stream()]


def compile_request(request):
    """The C++ compiler callback: request dict -> {image, symbol, shared_bytes, warps,
    global_scratch_bytes, profile_scratch_bytes}. Raises RuntimeError naming the kernel and the
    specialization when CuTe DSL fails."""
    table = kernel_table()
    build = table.get(request["kernel"])
    if build is None:
        raise RuntimeError(f"kernel suite: no CuTe DSL kernel is named {request['kernel']!r} "
                           f"(kernels/cute has {sorted(table)})")
    import cutlass

    spec = spec_of(request)
    parts = {"cutlass": _version(cutlass), "source": _source_hash(), "kernel": request["kernel"],
             "signature": request["signature"], "constants": request["constants"], "warps": request["warps"],
             "capability": list(request["capability"]), "aligned": spec.aligned, "backend": "cute"}
    return triton_compiler.cached_compile(parts, request, lambda: _compile(build, spec, request, cutlass)[:2],
                                          label="cute ")


def _version(cutlass):
    try:
        from importlib.metadata import version

        return version("nvidia-cutlass-dsl")
    except Exception:
        return getattr(cutlass, "__version__", "unknown")


def _compile(build, spec, request, cutlass):
    import cutlass.cute as cute

    what = triton_compiler.describe(request)
    try:
        host, shared_bytes = build(spec)
        with tempfile.TemporaryDirectory(prefix="vt-cute-") as d:
            options = f"--keep-cubin --keep-ptx --gpu-arch={gpu_arch(request['capability'])} --dump-dir={d}"
            compiled = cute.compile(host, *_example_args(spec, request, cutlass), options=options)
            image, ptx = compiled.__cubin__, compiled.__ptx__
    except Exception as e:
        raise RuntimeError(f"kernel suite: CuTe DSL could not compile {what}: {type(e).__name__}: {e}") from e
    if not isinstance(image, (bytes, bytearray)) or not image:
        raise RuntimeError(f"kernel suite: CuTe DSL kept no cubin for {what}")
    meta = {"symbol": entry_symbol(ptx), "shared_bytes": int(shared_bytes), "warps": spec.warps,
            "global_scratch_bytes": 0, "profile_scratch_bytes": 0}
    return bytes(image), meta, compiled


def compile_host(request):
    """The compiled host function of a specialization, for kernels.launch=python (Note [Python kernel
    launch]): CuTe DSL's own launcher, called with pointers, scalars, the grid and the stream."""
    build = kernel_table().get(request["kernel"])
    if build is None:
        raise RuntimeError(f"kernel suite: no CuTe DSL kernel is named {request['kernel']!r}")
    import cutlass

    return _compile(build, spec_of(request), request, cutlass)[2]
