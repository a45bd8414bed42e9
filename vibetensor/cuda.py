"""vibetensor.cuda: whether this build can place tensors on a GPU."""
import functools

from vibetensor import _C


@functools.cache
def is_available():
    """True when a CUDA tensor can be created (a CUDA build with a visible GPU)."""
    try:
        _C._ops.empty([0], None, "cuda")
    except (RuntimeError, NotImplementedError):
        return False
    return True
