"""vibetensor.backends.cudnn: torch.backends.cudnn's switches, so scripts that set them run unchanged.

vibetensor has no cuDNN (its CUDA kernels are its own and cuBLAS): is_available() is False and
version() None, as torch reports on a build without cuDNN. The flags are plain, settable module
attributes with torch's defaults. `allow_tf32` is read by the convolution on CUDA, whose GEMMs use
TF32 tensor cores while it is True, as torch's cuDNN convolutions do (nn/_conv.py, Note [TF32
matmul]); the others are read by nothing (vibetensor's kernels are deterministic and autotune nothing,
so `deterministic = True` and `benchmark = False` hold whatever they are set to).
"""
import contextlib

__all__ = ["is_available", "version", "flags", "enabled", "benchmark", "deterministic", "allow_tf32",
           "benchmark_limit"]

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Sets the flags for the block and restores them after it (torch.backends.cudnn.flags)."""
    module = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    before = {n: module[n] for n in names}
    module.update(zip(names, (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)))
    try:
        yield
    finally:
        module.update(before)
