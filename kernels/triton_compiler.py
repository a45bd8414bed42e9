"""The Triton compiler of the kernel suite's C++ launch path.

C++ asks for a specialization the first time it launches it (Note [Kernel suite launch path] in
csrc/ops/suite/launch.h): the kernel's name in a family's ``KERNELS`` table (kernels/triton/), the
explicit signature and constexprs, warps, stages and the device's compute capability. This module
compiles it with ``triton.compile`` for exactly that signature (no specialization of its own), or
reads it from the disk cache (kernels/disk_cache.py), and returns the cubin with what the launcher
needs. Nothing here runs on a launch after the first of a specialization in a process.
"""
import importlib
import pkgutil
import threading
import time

from vibetensor.kernels.disk_cache import CorruptEntry, DiskCache, key_of

_table = None
_table_lock = threading.Lock()
_key_locks = {}
_events = []  # what compile requests did: see events()
_disk = DiskCache()


def kernel_table():
    """{kernel name: JITFunction} over every family module in kernels/triton (names are unique)."""
    global _table
    with _table_lock:
        if _table is None:
            from vibetensor.kernels import triton as families

            _table = collect_kernels(families, "Triton")
        return _table


def collect_kernels(package, what):
    """{name: entry} merged from the KERNELS tables of `package`'s family modules (those not starting
    with "_"); RuntimeError when two modules give one name different entries."""
    table = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, entry in getattr(module, "KERNELS", {}).items():
            if name in table and table[name] is not entry:
                raise RuntimeError(f"kernel suite: two {what} kernels are named {name!r} (the second in "
                                   f"{package.__name__.replace('vibetensor.', '').replace('.', '/')}/{info.name}.py)")
            table[name] = entry
    return table


def register(name, fn):
    """Adds a Triton kernel of your own under `name`, for C++ declarations (and tests) to launch."""
    table = kernel_table()
    with _table_lock:
        if name in table and table[name] is not fn:
            raise ValueError(f"kernel suite: a Triton kernel named {name!r} is registered already")
        table[name] = fn


def set_disk_cache(directory):
    """Moves the disk cache (None: the default place; $VT_KERNEL_CACHE sets it for a process)."""
    global _disk
    _disk = DiskCache(directory)


def disk_cache_dir():
    return _disk.dir


def events():
    """One dict per compile request of this process: kernel, spec, source ("disk" | "compiled" |
    "recompiled after corrupt entry: ..."), seconds. Warm-up reads it to say what it compiled."""
    return list(_events)


def describe(request):
    sig = ", ".join(f"{n}:{t[1:]}" for n, t in request["signature"] if t.startswith("*"))
    consts = ", ".join(f"{n}={v}" for n, v in request["constants"])
    aligned = ", aligned" if request.get("aligned") else ""
    return (f"{request['kernel']} [{sig}; {consts}; warps={request['warps']}, "
            f"sm_{''.join(map(str, request['capability']))}{aligned}]")


def _check_parameters(fn, request):
    params = [(p.name, p.is_constexpr) for p in fn.params]
    names = [n for n, is_const in params if not is_const]
    constants = [n for n, is_const in params if is_const]
    want_names = [n for n, _ in request["signature"]]
    want_constants = [n for n, _ in request["constants"]]
    if names != want_names or constants != want_constants:
        raise RuntimeError(f"kernel suite: the C++ declaration of {request['kernel']} passes parameters {want_names} "
                           f"and constexprs {want_constants}, but the Triton kernel takes {names} and {constants}")


def compile_request(request):
    """The C++ compiler callback: request dict -> {image, symbol, shared_bytes, warps,
    global_scratch_bytes, profile_scratch_bytes}. Raises RuntimeError naming the kernel and the
    specialization when Triton fails."""
    table = kernel_table()
    fn = table.get(request["kernel"])
    if fn is None:
        raise RuntimeError(f"kernel suite: no Triton kernel is named {request['kernel']!r} "
                           f"(kernels/triton has {sorted(table)})")
    _check_parameters(fn, request)
    import triton

    parts = {"triton": triton.__version__, "source": fn.cache_key, "kernel": request["kernel"],
             "signature": request["signature"], "constants": request["constants"], "warps": request["warps"],
             "stages": request["stages"], "capability": list(request["capability"]),
             "aligned": bool(request.get("aligned", False))}
    return cached_compile(parts, request, lambda: _compile(fn, request, triton))


def cached_compile(parts, request, compile_fn, label=""):
    """The image of the specialization `parts` describes, from the disk cache or from compile_fn() ->
    (image, meta), stored for the next process; one compile per key in this process (a per-key lock); the
    event log says which (events()). Shared by the suite's compilers (Triton's, CuTe DSL's)."""
    key = key_of(parts)
    with _key_locks.setdefault(key, threading.Lock()):
        t0 = time.perf_counter()
        source = "disk"
        try:
            entry = _disk.load(key)
        except CorruptEntry as e:
            entry, source = None, f"recompiled after corrupt entry: {e}"
        if entry is None:
            entry = compile_fn()
            _disk.store(key, *entry)
            if source == "disk":
                source = "compiled"
        image, meta = entry
        _events.append({"kernel": request["kernel"], "spec": label + describe(request), "source": source,
                        "seconds": time.perf_counter() - t0})
        return dict(meta, image=image)


def _compile(fn, request, triton):
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    signature = dict(request["signature"])
    signature.update({n: "constexpr" for n, _ in request["constants"]})
    names = [p.name for p in fn.params]
    constexprs = {(names.index(n),): v for n, v in request["constants"]}
    major, minor = request["capability"]
    attrs = {}
    if request.get("aligned"):  # Note [Aligned variants] in kernels/triton/__init__.py
        from vibetensor.kernels.triton import aligned_param

        attrs = {(i,): [["tt.divisibility", 16]] for i, n in enumerate(names)
                 if signature[n] != "constexpr" and aligned_param(n)}
    try:
        src = ASTSource(fn=fn, signature={n: signature[n] for n in names}, constexprs=constexprs, attrs=attrs)
        compiled = triton.compile(src, target=GPUTarget("cuda", major * 10 + minor, 32),
                                  options={"num_warps": request["warps"], "num_stages": request["stages"]})
    except Exception as e:
        raise RuntimeError(f"kernel suite: Triton could not compile {describe(request)}: {type(e).__name__}: {e}") from e
    md = compiled.metadata
    meta = {"symbol": md.name, "shared_bytes": int(md.shared), "warps": int(md.num_warps),
            "global_scratch_bytes": int(md.global_scratch_size), "profile_scratch_bytes": int(md.profile_scratch_size)}
    return compiled.asm["cubin"], meta
