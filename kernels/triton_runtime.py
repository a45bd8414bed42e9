"""Launching Triton kernels on vibetensor tensors, without torch on the launch path.

Triton finds the current device and stream through its active driver, which binds them to torch
by default. install() binds them to vibetensor's (so a kernel runs on the current vibetensor
stream of the tensor's device, like every vibetensor op) and activates the CUDA driver even when
the installed torch has no CUDA. Tensors are passed as TritonPointer: an object with data_ptr() and
a dtype name, which is all Triton's argument specialization reads.
"""
import threading

from vibetensor import _C

try:
    import triton
except ImportError:  # Triton is optional: everything here raises a clear error without it
    triton = None

_install_lock = threading.Lock()
_installed = False


def available():
    """True when Triton is importable and a CUDA GPU is available to vibetensor."""
    import vibetensor as vt

    return triton is not None and vt.cuda.is_available()


def require():
    import vibetensor as vt

    if triton is None:
        raise RuntimeError("Triton kernels need the `triton` package, which is not installed")
    if not vt.cuda.is_available():
        raise RuntimeError("Triton kernels need a CUDA GPU, but vibetensor.cuda.is_available() is False")
    install()


def install():
    """Binds Triton's active CUDA driver to vibetensor's current device and stream (idempotent)."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        import vibetensor as vt
        from triton.runtime import driver

        try:
            active = driver.active
        except RuntimeError:  # Triton found no active driver (its probe asks torch.cuda)
            active = None
        if active is None or type(active).__name__ != "CudaDriver":
            from triton.backends.nvidia.driver import CudaDriver

            active = CudaDriver()
            driver.set_active(active)
        cuda = _C._cuda
        active.get_current_device = lambda: int(cuda.current_device())
        active.set_current_device = vt.cuda.set_device
        active.get_current_stream = lambda idx=None: int(
            cuda.current_stream(int(cuda.current_device()) if idx is None else int(idx)).cuda_stream)
        active.get_device_capability = lambda idx=None: vt.cuda.get_device_capability(idx)
        _installed = True


class TritonPointer:
    """A tensor argument of a Triton kernel: its data pointer and its dtype name ("float32", ...)."""

    __slots__ = ("_ptr", "dtype")

    def __init__(self, tensor):
        self._ptr = tensor.data_ptr()
        self.dtype = tensor.dtype.name

    @classmethod
    def at(cls, ptr, dtype_name):
        """A pointer argument from an address and a dtype name (what the C++ launch path hands over)."""
        p = cls.__new__(cls)
        p._ptr, p.dtype = ptr, dtype_name
        return p

    def data_ptr(self):
        return self._ptr


def cuda_index(tensor):
    """The CUDA device index of `tensor` (RuntimeError for a CPU tensor)."""
    dev = tensor.device
    if dev.type != "cuda":
        raise RuntimeError(f"Triton kernels run on CUDA tensors, got a tensor on {dev}")
    return dev.index if dev.index is not None else 0


def _on_device(device_index, fn):
    cuda = _C._cuda
    prev = int(cuda.current_device())
    if prev == device_index:
        return fn()
    cuda.set_device(device_index)
    try:
        return fn()
    finally:
        cuda.set_device(prev)


def launch_on(device_index, kernel, grid, args, constexprs, num_warps):
    """kernel[grid](*args, **constexprs) with `device_index` current (Triton launches on the current
    device's current stream, which install() made vibetensor's)."""
    _on_device(device_index, lambda: kernel[grid](*args, num_warps=num_warps, **constexprs))


def compile_on(device_index, kernel, grid, args, constexprs, num_warps):
    """Compiles `kernel` for these arguments without launching it (Triton's warmup)."""
    _on_device(device_index, lambda: kernel.warmup(*args, grid=grid, num_warps=num_warps, **constexprs))
