"""Zero-copy exchange with numpy and DLPack producers (torch, numpy, ...)."""
import ctypes
import warnings

import numpy as np

from vibetensor import _C
from vibetensor import _dtype

Tensor = _C.Tensor
_export = Tensor.__dlpack__  # the C++ exporter (zero-copy capsule); Tensor.__dlpack__ becomes dlpack_export


class DLPackExportError(BufferError, RuntimeError):
    """A tensor that cannot be exported. torch raises BufferError (the DLPack protocol's error) and
    documents RuntimeError; this is both."""


def dlpack_export(self, **kwargs):
    """Tensor.__dlpack__: refuses a tensor that requires grad, as torch does (the consumer would
    see its values with no way to follow its graph); export t.detach() instead."""
    if self.requires_grad:
        raise DLPackExportError("Can't export tensors that require gradient, use tensor.detach()")
    return _export(self, **kwargs)


def to_numpy(t):
    """A writable numpy array sharing t's memory (CPU tensors; not bfloat16).

    numpy's own from_dlpack marks arrays from legacy DLPack capsules read-only, so the array is
    built over the storage with a ctypes buffer that keeps the tensor alive.
    """
    if t.device.type != "cpu":
        raise TypeError(f"can't convert {t.device} device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                        "to host memory first.")
    npd = _dtype.to_numpy_dtype(t.dtype)
    if t.numel() == 0:
        return np.empty(t.shape, dtype=npd)
    itemsize = npd.itemsize
    offset = t.storage_offset()
    base = t.data_ptr() - offset * itemsize
    buf = (ctypes.c_char * t._storage_nbytes()).from_address(base)
    buf._vt_owner = t  # the array's base is buf; buf keeps the tensor (and its storage) alive
    return np.ndarray(t.shape, dtype=npd, buffer=buf, offset=offset * itemsize,
                      strides=tuple(s * itemsize for s in t.stride()))


def host_values(t):
    """A numpy array with t's values for reading (copies bfloat16 through float32, CUDA to host)."""
    if t.device.type != "cpu":
        t = _C._ops.to_device(t, "cpu")
    if t.dtype is _dtype.bfloat16:
        t = _C._ops.to_dtype(t, _dtype.float32)
    return to_numpy(t)


def from_numpy(ndarray):
    """A tensor sharing the numpy array's memory (writes are visible both ways)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)  # TypeError listing the supported dtypes
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative strides "
                         "are not currently supported. (You can probably work around this by making a copy of your "
                         "array with array.copy().)")
    if not ndarray.dtype.isnative:
        raise TypeError(f"given numpy array has byte order different from the native byte order ({ndarray.dtype}); "
                        "convert it with array.astype(array.dtype.newbyteorder('='))")
    if not ndarray.flags.writeable:
        # DLPack (unversioned) cannot carry a read-only flag and numpy refuses to export.
        warnings.warn("The given NumPy array is not writable; vibetensor copies it (a shared tensor could be written "
                      "through). Make the array writable to share its memory.", UserWarning, stacklevel=2)
        ndarray = ndarray.copy()
    return _C._from_dlpack_capsule(ndarray.__dlpack__())


def from_dlpack(ext_tensor):
    """A tensor sharing the memory of any DLPack producer (an object with __dlpack__, e.g. a torch tensor or a
    numpy array) or of an unconsumed DLPack capsule."""
    if type(ext_tensor).__name__ == "PyCapsule":
        return _C._from_dlpack_capsule(ext_tensor)
    if isinstance(ext_tensor, np.ndarray):
        return from_numpy(ext_tensor)
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (a torch tensor, numpy array, ...) or a "
                        f"DLPack capsule, got {type(ext_tensor).__name__}")
    return _C._from_dlpack_capsule(ext_tensor.__dlpack__())
