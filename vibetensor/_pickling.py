"""How vibetensor objects pickle: tensors, Parameters, dtypes and devices.

A tensor reduces to _rebuild_tensor(storage, offset, size, stride, requires_grad): its geometry plus a
StorageRef naming the whole storage it views. vibetensor.save turns each StorageRef into a persistent id,
one per storage, so views that share a storage share one after load (Note [Save format] in
serialization.py). A plain pickle.dumps has no persistent ids: each StorageRef then pickles its bytes
in-band, and views of one storage come back as separate copies.
"""
import copyreg
import ctypes
import pickle

from vibetensor import _C
from vibetensor import _dtype

Tensor = _C.Tensor
_ops = _C._ops


class StorageRef:
    """The whole storage behind a tensor (held alive, so its id stays unique while a save runs)."""

    def __init__(self, tensor):
        self.tensor = tensor.detach()
        self.key = (tensor._storage_id(), str(tensor.device))
        self.nbytes = tensor._storage_nbytes()

    def whole(self):
        """A 1-D tensor over the whole storage (sharing it)."""
        t = self.tensor
        return _ops.as_strided(t, [self.nbytes // t.element_size()], [1], 0)

    def host_bytes(self):
        """The storage's bytes, copied to host memory (a CUDA storage is copied to the CPU first)."""
        if self.nbytes == 0:
            return b""
        whole = self.whole()
        if whole.device.type != "cpu":
            whole = _ops.to_device(whole, "cpu", False)
        return ctypes.string_at(whole.data_ptr(), self.nbytes)

    def __reduce__(self):  # in-band (plain pickle.dumps): loads where it was saved, as torch's in-band pickles do
        return storage_from_bytes, (self.host_bytes(), self.tensor.dtype.name, str(self.tensor.device))


def is_dtype_name(name):
    return isinstance(name, str) and isinstance(getattr(_dtype, name, None), _dtype.dtype)


def storage_from_bytes(data, dtype, device="cpu"):
    """A 1-D tensor of `dtype` (a dtype or its name) holding the bytes `data` (a whole storage), on `device`."""
    if not isinstance(dtype, _dtype.dtype) and not is_dtype_name(dtype):
        raise RuntimeError(f"a saved storage has dtype {dtype!r}, not a vibetensor dtype: the file is corrupt")
    d = getattr(_dtype, dtype) if isinstance(dtype, str) else dtype
    itemsize = d.itemsize
    if len(data) % itemsize:
        raise RuntimeError(f"a saved storage of {len(data)} bytes is not a whole number of {d} elements "
                           f"({itemsize} bytes each): the file is corrupt")
    t = _ops.empty([len(data) // itemsize], d, "cpu")
    if data:
        ctypes.memmove(t.data_ptr(), bytes(data), len(data))
    return t if str(device) == "cpu" else _ops.to_device(t, _C.device(str(device)), False)


def _rebuild_tensor(storage, offset, size, stride, requires_grad):
    """A leaf tensor viewing `storage` (a 1-D tensor over a whole storage) with the saved geometry. copy.copy
    passes the StorageRef itself: the copy shares the storage, as in torch."""
    if isinstance(storage, StorageRef):
        storage = storage.whole()
    t = _ops.as_strided(storage, list(size), list(stride), int(offset)).detach()
    if requires_grad:
        t.requires_grad = True
    return t


def _rebuild_parameter(data, requires_grad):
    from vibetensor.nn.parameter import Parameter
    return Parameter(data, requires_grad)


def tensor_reduce_ex(self, protocol):
    """Tensor.__reduce_ex__: values of the viewed storage, geometry, dtype, device and requires_grad; a
    Parameter stays a Parameter. .grad and the autograd history are not saved (as torch)."""
    from vibetensor.nn.parameter import Parameter  # nn imports the tensor API: import on use
    if isinstance(self, Parameter):
        return _rebuild_parameter, (self.detach(), self.requires_grad)
    if type(self) is not Tensor:
        raise TypeError(f"cannot pickle a {type(self).__qualname__} (a Tensor subclass): vibetensor pickles Tensor "
                        "and nn.Parameter only; pickle t.detach() (a plain Tensor) instead")
    return _rebuild_tensor, (StorageRef(self), self.storage_offset(), tuple(self.shape), tuple(self.stride()),
                             self.requires_grad)


def _device_reduce(self):
    return _C.device, (str(self),)


class WeightsOnlyError(pickle.UnpicklingError):
    """A global that weights_only=True refuses to load (vibetensor.serialization.WeightsOnlyError)."""


def _rebuild_dtype(name):
    if not is_dtype_name(name):
        raise RuntimeError(f"a saved dtype is {name!r}, not a vibetensor dtype: the file is corrupt")
    return getattr(_dtype, name)


def _dtype_reduce(d):
    # By name, the same on every Python: an enum member pickles as getattr(cls, name) on 3.11.2 and
    # as cls(value) on later 3.11 releases, so files would depend on the writer's Python.
    return _rebuild_dtype, (d.name,)


def dtype_member(cls, name):
    """getattr(cls, name) restricted to a dtype's members: how Python 3.11.2 pickled a dtype (an enum
    member), the only use of builtins.getattr that weights_only=True files may make."""
    if cls is not _dtype.dtype or not is_dtype_name(name):
        raise WeightsOnlyError(f"Weights only load failed: getattr({getattr(cls, '__name__', cls)!r}, {name!r}) "
                                     "is not a vibetensor dtype; weights_only=True allows getattr only for those. If "
                                     "you trust the file, pass weights_only=False to vibetensor.load.")
    return getattr(_dtype, name)


def install():
    Tensor.__reduce_ex__ = tensor_reduce_ex
    _C.device.__reduce__ = _device_reduce
    copyreg.pickle(_dtype.dtype, _dtype_reduce)
