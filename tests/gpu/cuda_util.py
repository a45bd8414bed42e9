"""Helpers of the GPU-only tests (tests/gpu): numpy arrays to and from CUDA tensors (made with the
catalogue ops, vibetensor._C._ops). Conversions with torch, comparisons and the skip marker come
from the shared harness (tests/harness.py)."""
import numpy as np

from harness import CPU, DT, cuda, item, ops, requires_cuda, to_numpy, to_vt  # noqa: F401  (re-exported)

requires_gpu = requires_cuda


def to_cpu(t):
    return ops.to_device(t, CPU)


def from_numpy(a, device=None):
    from vibetensor import _C
    t = ops.clone(_C._from_dlpack_capsule(np.ascontiguousarray(a).__dlpack__()))  # own the memory
    return ops.to_device(t, cuda() if device is None else device)


def from_torch(x, device=None):
    """A vibetensor copy of torch tensor x on `device` (default cuda:0)."""
    return to_vt(x, cuda() if device is None else device)


def leaf(x):
    """A vibetensor copy of torch tensor x on cuda:0 that requires grad."""
    return to_vt(x, cuda(), requires_grad=True)
