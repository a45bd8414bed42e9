"""Helpers of the GPU tests: devices, conversions between vibetensor, numpy and torch (via DLPack),
and the skip marker. Tensors are made with the catalogue ops (vibetensor._C._ops)."""
import numpy as np
import pytest

import vibetensor as vt
from vibetensor import _C

ops = _C._ops
DT = _C.dtype
CPU = _C.device("cpu")

requires_gpu = pytest.mark.skipif(not vt.cuda.is_available(),
                                  reason="no CUDA GPU (vibetensor.cuda.is_available() is False)")


def cuda(index=0):
    return _C.device("cuda", index)


def to_cpu(t):
    return ops.to_device(t, CPU)


def to_numpy(t):
    return np.from_dlpack(to_cpu(t).detach()).copy()


def from_numpy(a, device=None):
    t = _C._from_dlpack_capsule(np.ascontiguousarray(a).__dlpack__())
    t = ops.clone(t)  # own the memory
    return ops.to_device(t, cuda() if device is None else device)


def item(t):
    return _C._item(t)


# ---- torch interop (torch is the reference; CPU torch suffices) ----

def torch_mod():
    return pytest.importorskip("torch")


def ref_device():
    torch = torch_mod()
    return "cuda" if torch.cuda.is_available() else "cpu"


def to_torch(t, device="cpu"):
    """A torch copy of a vibetensor tensor (any device)."""
    torch = torch_mod()
    c = to_cpu(t)
    out = torch.utils.dlpack.from_dlpack(c.__dlpack__()).clone()
    return out.to(device)


def from_torch(x, device=None):
    """A vibetensor copy of a torch tensor on `device` (default cuda:0)."""
    x = x.detach().to("cpu").contiguous()
    t = ops.clone(_C._from_dlpack_capsule(x.__dlpack__()))
    return ops.to_device(t, cuda() if device is None else device)


def leaf(x):
    """A vibetensor copy of torch tensor x on cuda:0 that requires grad."""
    t = from_torch(x)
    t.requires_grad = True
    return t


def vt_backward(out, grad):
    """Backward from vibetensor `out` with the torch gradient `grad`."""
    _C._backward([out], [from_torch(grad)], False)


VT_OF_TORCH = {}


def vt_dtype(torch_dtype):
    torch = torch_mod()
    if not VT_OF_TORCH:
        VT_OF_TORCH.update({torch.float32: DT.float32, torch.float64: DT.float64, torch.float16: DT.float16,
                            torch.bfloat16: DT.bfloat16, torch.int64: DT.int64, torch.int32: DT.int32,
                            torch.bool: DT.bool})
    return VT_OF_TORCH[torch_dtype]


def tolerances(torch_dtype):
    torch = torch_mod()
    return {torch.float32: (2e-5, 1e-6), torch.float64: (1e-12, 1e-13), torch.float16: (2e-3, 1e-3),
            torch.bfloat16: (1.6e-2, 1e-2)}.get(torch_dtype, (0, 0))


def assert_close(vt_tensor, ref, rtol=None, atol=None):
    """vibetensor result vs torch reference: same shape and dtype, values within the dtype's tolerance."""
    torch = torch_mod()
    got = to_torch(vt_tensor)
    ref = ref.detach().to("cpu")
    assert tuple(got.shape) == tuple(ref.shape), (got.shape, ref.shape)
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    r, a = tolerances(ref.dtype)
    torch.testing.assert_close(got, ref, rtol=r if rtol is None else rtol, atol=a if atol is None else atol,
                               equal_nan=True)
