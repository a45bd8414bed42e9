"""vibetensor.save / vibetensor.load: pickling objects that hold tensors to a file, as torch.save/torch.load.

Note [Save format]
A saved file is a zip archive (entries stored uncompressed):
  vibetensor_format    b"vibetensor-save 1 <byteorder>\\n": marks the format, its version and the byte order
                       of the storages (sys.byteorder of the writer; load refuses another)
  data.pkl             the object, pickled with `pickle_protocol`; every tensor storage in it is a persistent
                       id ("storage", index, dtype name, location, nbytes), location the saving device ("cpu",
                       "cuda:0")
  storages/<index>     the raw bytes of that whole storage, copied to host memory; one entry per storage
A tensor pickles as its storage's persistent id plus offset, size, stride and requires_grad
(vibetensor/_pickling.py); each storage is written once, keyed by the storage itself, so tensors that view
one storage share one storage after load. The format is vibetensor's own: torch's files (a zip with
<name>/data.pkl and torch's rebuild functions) are refused with an error saying so, and torch cannot read
these files.
"""
import _compat_pickle
import codecs
import collections
import io
import os
import pickle
import sys
import zipfile

from vibetensor import _C
from vibetensor import _dtype
from vibetensor import _pickling

_MAGIC_ENTRY = "vibetensor_format"
_MAGIC = f"vibetensor-save 1 {sys.byteorder}\n".encode()
_PICKLE_ENTRY = "data.pkl"
_STORAGE_DIR = "storages/"

# weights_only=True: the only globals a file may name (Note [Save format] lists what a file holds).
_SAFE_GLOBALS = {
    ("vibetensor._pickling", "_rebuild_tensor"): _pickling._rebuild_tensor,
    ("vibetensor._pickling", "_rebuild_parameter"): _pickling._rebuild_parameter,
    ("vibetensor._C", "device"): _C.device,
    ("vibetensor._C", "dtype"): _dtype.dtype,
    ("vibetensor._pickling", "_rebuild_dtype"): _pickling._rebuild_dtype,
    ("builtins", "getattr"): _pickling.dtype_member,  # a dtype pickled by Python 3.11.2, nothing else
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): codecs.encode,  # how protocol 2 pickles bytes
    **{("builtins", t.__name__): t for t in (dict, list, tuple, set, frozenset, int, float, complex, bool, str,
                                              bytes, bytearray)},
}


WeightsOnlyError = _pickling.WeightsOnlyError


class _Pickler(pickle.Pickler):
    """Writes each storage once, as a persistent id; `storages` collects them in order."""

    def __init__(self, f, protocol):
        super().__init__(f, protocol)
        self.storages = []
        self._index = {}

    def persistent_id(self, obj):
        if not isinstance(obj, _pickling.StorageRef):
            return None
        if obj.key not in self._index:
            self._index[obj.key] = len(self.storages)
            self.storages.append(obj)  # holds the storage alive: its id cannot be reused during the save
        i = self._index[obj.key]
        first = self.storages[i]
        return ("storage", i, first.tensor.dtype.name, obj.key[1], first.nbytes)


def _opened(f, mode):
    """(file object, whether we opened it): f is a path (str, os.PathLike) or a binary file object."""
    if isinstance(f, (str, os.PathLike)):
        return open(f, mode), True
    needed = "write" if "w" in mode else "read"
    if not hasattr(f, needed):
        raise TypeError(f"expected a path (str or os.PathLike) or a binary file object with {needed}(), "
                        f"got {type(f).__name__}")
    return f, False


def save(obj, f, pickle_protocol=2, _use_new_zipfile_serialization=True):
    """Saves `obj` (tensors, modules' and optimizers' state dicts, containers of them) to `f`, a path or a
    binary file object, in vibetensor's format (Note [Save format]); torch.load cannot read it.

    CUDA tensors are saved with their values (copied to host) and their device; vibetensor.load puts them
    back there unless map_location says otherwise.
    """
    buf = io.BytesIO()
    pickler = _Pickler(buf, pickle_protocol)
    pickler.dump(obj)
    out, owned = _opened(f, "wb")
    try:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
            z.writestr(_MAGIC_ENTRY, _MAGIC)
            z.writestr(_PICKLE_ENTRY, buf.getvalue())
            for i, ref in enumerate(pickler.storages):
                z.writestr(f"{_STORAGE_DIR}{i}", ref.host_bytes())
    finally:
        if owned:
            out.close()


def _target_location(location, map_location):
    """Where a storage saved at `location` ("cpu", "cuda:0") loads (a device string), per map_location."""
    if map_location is None:
        return location
    if isinstance(map_location, dict):
        return str(map_location.get(location, location))
    if isinstance(map_location, (str, _C.device)):
        return str(_C.device(str(map_location)))
    raise TypeError(f"map_location must be None, a device string, a vibetensor.device, a dict or a callable, "
                    f"got {type(map_location).__name__}")


def _place(storage, location, map_location):
    """The CPU storage tensor moved where map_location says (a callable may return it moved, or None)."""
    if callable(map_location) and not isinstance(map_location, (dict, str, _C.device)):
        moved = map_location(storage, location)
        if moved is not None:
            return moved
        map_location = None
    target = _target_location(location, map_location)
    if target.startswith("cuda"):
        from vibetensor import cuda
        if not cuda.is_available():
            raise RuntimeError(f"Attempting to deserialize a tensor saved on {location} to {target}, but "
                               "vibetensor.cuda.is_available() is False. On a machine without a GPU pass "
                               "map_location='cpu' to vibetensor.load to load the storages to the CPU.")
    return storage if target == "cpu" else _C._ops.to_device(storage, _C.device(target), False)


class _Unpickler(pickle.Unpickler):
    """Resolves storage persistent ids from the archive; with weights_only, refuses every global outside
    _SAFE_GLOBALS (a pickle can otherwise call any importable function, os.system included)."""

    def __init__(self, data, archive, map_location, weights_only):
        super().__init__(io.BytesIO(data))
        self._archive = archive
        self._map_location = map_location
        self._weights_only = weights_only
        self._loaded = {}

    def find_class(self, module, name):
        if not self._weights_only:
            return super().find_class(module, name)
        # protocols 0-2 name Python 2's modules (__builtin__.set); read them as pickle itself does
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[(module, name)]
        raise WeightsOnlyError(
            f"Weights only load failed: the file refers to the global {module}.{name}, which weights_only=True "
            "does not allow (only tensors, Parameters, dtypes, devices, numbers, strings, bytes, None and "
            "dict/list/tuple/set/OrderedDict containers are). If you trust the file, pass weights_only=False to "
            "vibetensor.load to unpickle arbitrary code.")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], int)
                and _pickling.is_dtype_name(pid[2]) and isinstance(pid[3], str)):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r} in the file: expected "
                                         "('storage', index, dtype, location, nbytes); the file is corrupt")
        _, index, dtype, location, nbytes = pid
        if index not in self._loaded:
            name = f"{_STORAGE_DIR}{index}"
            try:
                data = self._archive.read(name)
            except KeyError:
                raise RuntimeError(f"vibetensor.load: the file has no entry {name} for a storage its pickle "
                                   "uses: the file is truncated or corrupt") from None
            if len(data) != nbytes:
                raise RuntimeError(f"vibetensor.load: storage {name} has {len(data)} bytes, the pickle expects "
                                   f"{nbytes}: the file is corrupt")
            self._loaded[index] = _place(_pickling.storage_from_bytes(data, dtype), location, self._map_location)
        return self._loaded[index]


def _open_archive(f):
    try:
        z = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise RuntimeError(f"vibetensor.load: the file is not a vibetensor.save archive ({e}): it is truncated, "
                           "corrupt, or was not written by vibetensor.save (Note [Save format])") from None
    names = z.namelist()
    if _MAGIC_ENTRY not in names:
        torch_like = any(n.endswith("/data.pkl") for n in names)
        raise RuntimeError("vibetensor.load: the archive is " + (
            "a torch.save file; vibetensor reads only its own format (load it with torch and convert the tensors "
            "with vibetensor.from_dlpack or vibetensor.tensor)" if torch_like else
            f"not a vibetensor.save file (no {_MAGIC_ENTRY} entry)"))
    magic = z.read(_MAGIC_ENTRY)
    if magic != _MAGIC:
        raise RuntimeError(f"vibetensor.load: unsupported format header {magic!r}: expected {_MAGIC!r} (another "
                           "format version or byte order)")
    return z


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Loads an object saved by vibetensor.save from `f` (a path or a binary file object).

    map_location: where storages go: None (where they were saved), "cpu"/"cuda:0"/a vibetensor.device (all of
    them there), a dict {saved location: target} or a callable (storage, location) -> storage or None.
    weights_only=True (the default, as torch 2.6+) unpickles only tensors, Parameters, dtypes, devices,
    numbers, strings, bytes, None and containers of them; pass weights_only=False for a trusted file with
    other objects (whole modules, your own classes). Reads vibetensor's format only (Note [Save format]),
    not torch's files.
    """
    if pickle_module is not None or pickle_load_args:
        raise TypeError("vibetensor.load: pickle_module and extra pickle arguments are not supported; the file is "
                        "read with the standard pickle module")
    if mmap:
        raise NotImplementedError("vibetensor.load: mmap=True is not supported; storages are read into memory "
                                  "(pass mmap=None)")
    src, owned = _opened(f, "rb")
    try:
        if not (hasattr(src, "seekable") and src.seekable()):
            src = io.BytesIO(src.read())
        with _open_archive(src) as z:
            try:
                data = z.read(_PICKLE_ENTRY)
            except KeyError:
                raise RuntimeError(f"vibetensor.load: the file has no {_PICKLE_ENTRY} entry: it is truncated or "
                                   "corrupt") from None
            except zipfile.BadZipFile as e:
                raise RuntimeError(f"vibetensor.load: the file is corrupt ({e})") from None
            unpickler = _Unpickler(data, z, map_location, weights_only)
            try:
                return unpickler.load()
            except (WeightsOnlyError, RuntimeError, TypeError):
                raise
            except (pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as e:
                raise RuntimeError(f"vibetensor.load: unpickling failed ({type(e).__name__}: {e}): the file is "
                                   "truncated or corrupt, or an object in it failed to rebuild") from None
    finally:
        if owned:
            src.close()
