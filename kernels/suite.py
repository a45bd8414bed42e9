"""The kernel suite seen from Python: registering its compilers with the C++ launch path, and
reading which backend ran which family.

``import vibetensor.kernels`` registers the Triton compiler when Triton is installed; then
``kernels.backend=triton`` makes CUDA ops of the suite's families launch Triton kernels from C++
(Note [Kernel suite launch path] in csrc/ops/suite/launch.h).
"""
import atexit
import importlib.util

from vibetensor import _C


def install():
    """Registers the suite's compilers with the C++ launch path (idempotent): Triton's when Triton is
    installed, CuTe DSL's for the families kernels/cute has every kernel of when nvidia-cutlass-dsl is.
    False, and nothing registered, when neither is: a selected backend then runs every family natively
    and report() says why."""
    has_triton = importlib.util.find_spec("triton") is not None
    has_cute = importlib.util.find_spec("cutlass") is not None
    if not (has_triton or has_cute):
        return False
    from vibetensor.kernels.python_launch import launch

    if has_triton:
        from vibetensor.kernels.triton_compiler import compile_request

        _C._suite_set_compiler("triton", compile_request)
    if has_cute:
        from vibetensor.kernels import cute_compiler

        served = cute_compiler.families_served(_C._suite_declarations())
        if served:  # an empty list would mean "every family" to the C++ side
            _C._suite_set_compiler("cute", cute_compiler.compile_request, served)
    _C._suite_set_python_launcher(launch)  # kernels.launch=python (Note [Python kernel launch])
    atexit.register(uninstall)  # drop the Python callables while the GIL is held, not in C++'s static destructors
    return True


def uninstall():
    atexit.unregister(uninstall)
    _C._suite_set_compiler("triton", None)
    _C._suite_set_compiler("cute", None)
    _C._suite_set_python_launcher(None)


def installed(backend="triton"):
    """Whether `backend`'s compiler is registered ("triton" or "cute")."""
    return _C._suite_has_compiler(backend)


def cute_families():
    """The families kernels.backend=cute serves: those kernels/cute has every kernel of (imports cutlass)."""
    from vibetensor.kernels import cute_compiler

    return cute_compiler.families_served(_C._suite_declarations())


def families():
    """The suite's families ("attention", "matmul", "softmax", ...): the modules of kernels/triton, listed
    without importing them (so without Triton), the same in CPU-only and CUDA builds."""
    import pkgutil

    from vibetensor.kernels import triton as family_modules

    return sorted(m.name for m in pkgutil.iter_modules(family_modules.__path__) if not m.name.startswith("_"))


def check_family_backend(family, backend):
    """ValueError unless `family` is one of families() and `backend` a kernels.backend value (or None)."""
    known = families()
    if family not in known:
        raise ValueError(f"kernel suite: unknown family {family!r}; expected one of {', '.join(known)}")
    values = next(r["values"] for r in _C._policy_describe() if r["name"] == "kernels.backend")
    if backend is not None and backend not in values:
        raise ValueError(f"kernel suite: unknown backend {backend!r} for {family}; expected one of {', '.join(values)} "
                         "or None")


def set_family_backend(family, backend):
    """Gives `family` its own backend ("native", "triton", "cute"; None: follow kernels.backend again), so a run can
    take the fastest backend per family (Note [Backend per family] in csrc/ops/suite/launch.cpp)."""
    check_family_backend(family, backend)
    _C._suite_set_family_backend(family, backend)


def family_backends():
    """{family: backend} of the families given their own backend."""
    return dict(_C._suite_family_backends())


def report():
    """One dict per (family, backend, fallback reason, launch path): what ran since the last
    reset_report(). ``fallback`` is "" for launches of the backend's kernels, else why the native
    kernel ran; ``launch`` says how the launches were made: "cpp", "python" (kernels.launch=python),
    or "cpp (kernels.launch=python, but ...)" with the reason."""
    return _C._suite_report()


def reset_report():
    _C._suite_reset_report()


def compile_pending():
    """Compiles what backward threads had to defer (Note [Suite compiles and the GIL]); the engine
    does this at the end of every backward that held the GIL."""
    return _C._suite_compile_pending()
