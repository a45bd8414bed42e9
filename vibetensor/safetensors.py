"""vibetensor.safetensors: the safetensors file format (the `safetensors` package's), read and written
without it: save_file / load_file / safe_open / save_model / load_model.

A file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON ({name: {"dtype", "shape",
"data_offsets": [begin, end]}, "__metadata__": {str: str}}) and the data, each tensor's bytes at
[begin, end) of it, row-major. See Note [safetensors checks] for what a load refuses.

CPU loads are views of a private (copy-on-write) memory map of the file wherever a tensor's bytes sit
at a multiple of its element size and numpy has its dtype (every dtype but bfloat16, which is copied
out of the map); writing to such a tensor never writes the file. device="cuda" loads copy each tensor
from the map into pinned memory and from there to the GPU without the host waiting per tensor, and
synchronize once at the end."""
import ctypes
import json
import mmap
import os
import struct

import numpy as np

from vibetensor import _C, _dtype, _interop, _pickling

__all__ = ["save_file", "load_file", "safe_open", "save_model", "load_model", "save", "load", "SafetensorError"]

# Note [safetensors checks]
# The checks of the reference implementation (safetensors' Rust crate, Metadata::validate and
# read_metadata): the header length fits the file and is at most 100,000,000 bytes; the header is
# UTF-8 JSON of an object whose values are tensor entries, except "__metadata__" (an object of
# strings); no key appears twice; each entry has a known dtype, a shape of non-negative integers and
# two integer data_offsets with begin <= end; sorted by begin, the entries tile the data from 0 with
# no gap or overlap and end exactly at the end of the file; each entry's byte length equals its
# element count times its dtype's size, computed without overflow (Python integers, compared with
# the 64-bit limit). A file failing any of them raises SafetensorError naming the check; no tensor
# is made from it.
MAX_HEADER_SIZE = 100_000_000
_MAX_U64 = 2 ** 64 - 1

_DTYPES = {"F32": _dtype.float32, "F64": _dtype.float64, "F16": _dtype.float16, "BF16": _dtype.bfloat16,
           "I64": _dtype.int64, "I32": _dtype.int32, "BOOL": _dtype.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}
# dtypes of the format vibetensor has no tensor type for: named in the error
_FOREIGN = {"U8", "I8", "U16", "I16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2",
            "C64"}
_SIZES = {"F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "BOOL": 1}


class SafetensorError(ValueError):
    """A file that is not a valid safetensors file (or a tensor vibetensor cannot store in one)."""


# ----- reading ------------------------------------------------------------------------------------

def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise SafetensorError(f"invalid header: key {k!r} appears twice")
        seen[k] = v
    return seen


def _parse_header(raw, file_size):
    """(entries {name: (dtype, shape, begin, end)} in file order, metadata, data start) of a file whose
    first bytes are `raw` (at least 8 of them) and whose size is file_size."""
    if file_size < 8 or len(raw) < 8:
        raise SafetensorError(f"header too small: the file has {file_size} bytes, expected at least 8 (the header length)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > MAX_HEADER_SIZE:
        raise SafetensorError(f"header too large: {n} bytes, the limit is {MAX_HEADER_SIZE}")
    if 8 + n > file_size:
        raise SafetensorError(f"invalid header length {n}: the file has only {file_size - 8} bytes after it")
    text = raw[8:8 + n]
    try:
        decoded = bytes(text).decode("utf-8")
    except UnicodeDecodeError as e:
        raise SafetensorError(f"invalid header: not UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        header = json.loads(decoded, object_pairs_hook=_no_duplicates)
    except SafetensorError:
        raise
    except ValueError as e:
        raise SafetensorError(f"invalid header: not JSON ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorError(f"invalid header: expected a JSON object, got {type(header).__name__}")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and (not isinstance(metadata, dict)
                                 or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise SafetensorError("invalid header: __metadata__ must be an object of strings")
    entries = {}
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorError(f"invalid header: tensor {name!r} must have exactly dtype, shape and data_offsets")
        dt, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dt not in _SIZES:
            if dt in _FOREIGN:
                raise SafetensorError(f"tensor {name!r} has dtype {dt}, which vibetensor has no tensor type for "
                                      f"(it has {', '.join(_DTYPES)})")
            raise SafetensorError(f"invalid header: tensor {name!r} has unknown dtype {dt!r}")
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            raise SafetensorError(f"invalid header: tensor {name!r} has shape {shape!r}, expected non-negative integers")
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int and 0 <= o <= _MAX_U64
                                                                           for o in offsets)):
            raise SafetensorError(f"invalid header: tensor {name!r} has data_offsets {offsets!r}, expected [begin, end]")
        begin, end = offsets
        if begin > end:
            raise SafetensorError(f"invalid offsets: tensor {name!r} begins at {begin} after its end {end}")
        count = 1
        for s in shape:
            count *= s
        nbytes = count * _SIZES[dt]
        if nbytes > _MAX_U64:
            raise SafetensorError(f"validation overflow: tensor {name!r} of shape {shape} has more bytes than 2^64")
        if nbytes != end - begin:
            raise SafetensorError(f"tensor invalid info: {name!r} is {dt} of shape {shape} ({nbytes} bytes) but its "
                                  f"data_offsets span {end - begin} bytes")
        entries[name] = (dt, tuple(shape), begin, end)
    expected = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda kv: (kv[1][2], kv[1][3])):
        if begin != expected:
            raise SafetensorError(f"invalid offset: tensor {name!r} begins at {begin}, expected {expected} (tensors must "
                                  "tile the data in order without gaps or overlaps)")
        expected = end
    data_size = file_size - 8 - n
    if expected != data_size:
        raise SafetensorError(f"metadata incomplete buffer: the tensors cover {expected} bytes of data, the file has "
                              f"{data_size}")
    return entries, metadata, 8 + n


def _cpu_tensor(buf, start, dt, shape, begin, end):
    """The tensor at bytes [start + begin, start + end) of buffer `buf` (a copy-on-write map): a view when
    numpy has the dtype and the bytes are aligned to the element size, else a copy."""
    d = _DTYPES[dt]
    count = (end - begin) // _SIZES[dt]
    if d is not _dtype.bfloat16 and (start + begin) % _SIZES[dt] == 0 and count:
        array = np.frombuffer(buf, dtype=_dtype.to_numpy_dtype(d), count=count, offset=start + begin)
        return _interop.from_numpy(array.reshape(shape))
    flat = _pickling.storage_from_bytes(bytes(buf[start + begin:start + end]), d)
    return flat.reshape(list(shape))


def _check_device(device):
    device = _C.device(str(device)) if not isinstance(device, _C.device) else device
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"safetensors: device must be 'cpu' or 'cuda', got {device}")
    return device


class safe_open:
    """``with safe_open(path, framework="pt", device="cpu") as f: f.keys(), f.get_tensor(name),
    f.metadata()``: the header is read and checked on open, each tensor only when asked for."""

    def __init__(self, filename, framework="pt", device="cpu"):
        if framework not in ("pt", "torch", "vt", "vibetensor", "np", "numpy"):
            raise ValueError(f"safe_open: framework {framework!r} is not supported (use 'pt')")
        self._device = _check_device(device)
        self._file = open(filename, "rb")
        try:
            size = os.fstat(self._file.fileno()).st_size
            head = self._file.read(8)
            n = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
            raw = head + self._file.read(min(n, MAX_HEADER_SIZE, max(0, size - 8)))
            self._entries, self._metadata, self._start = _parse_header(raw, size)
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_COPY) if size else b""
        except BaseException:
            self._file.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        # The map stays alive as long as a tensor views it (numpy holds it); only the file is closed.
        self._file.close()

    def keys(self):
        return sorted(self._entries)

    def metadata(self):
        return None if self._metadata is None else dict(self._metadata)

    def get_tensor(self, name):
        if name not in self._entries:
            raise KeyError(f"safe_open: no tensor named {name!r} in the file (it has {len(self._entries)})")
        dt, shape, begin, end = self._entries[name]
        t = _cpu_tensor(self._map, self._start, dt, shape, begin, end)
        if self._device.type == "cuda":
            t = t.to(self._device, non_blocking=True)  # staged through a pinned buffer by the copy itself
        return t


def load_file(filename, device="cpu"):
    """{name: tensor} of a safetensors file (CPU tensors view the file's private map; see the module doc)."""
    device = _check_device(device)
    with safe_open(filename, device=device) as f:
        out = {name: f.get_tensor(name) for name in f.keys()}
    if device.type == "cuda":
        from vibetensor import cuda

        cuda.synchronize(device)  # the non-blocking copies of get_tensor
    return out


def load(data):
    """{name: CPU tensor} of a safetensors file's bytes."""
    buf = bytearray(data)  # one writable copy: the tensors view it
    entries, _, start = _parse_header(memoryview(buf)[:8 + min(MAX_HEADER_SIZE, max(0, len(buf) - 8))], len(buf))
    return {name: _cpu_tensor(buf, start, *entries[name]) for name in sorted(entries)}


# ----- writing ------------------------------------------------------------------------------------

def _serialize(tensors, metadata):
    if not isinstance(tensors, dict):
        raise TypeError(f"save_file: expected a dict of name -> tensor, got {type(tensors).__name__}")
    if metadata is not None and (not isinstance(metadata, dict)
                                 or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise SafetensorError("save_file: metadata must be a dict of str -> str")
    from vibetensor import Tensor

    items = []
    for name, t in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise SafetensorError(f"save_file: tensor names must be strings other than __metadata__, got {name!r}")
        if not isinstance(t, Tensor):
            raise TypeError(f"save_file: {name!r} is a {type(t).__name__}, expected a tensor")
        if t.dtype not in _NAMES:
            raise SafetensorError(f"save_file: {name!r} has dtype {t.dtype}, which safetensors cannot store")
        items.append((name, t))
    # Larger elements first, then by name (as the reference writer): every tensor starts aligned to its size.
    items.sort(key=lambda kv: (-kv[1].dtype.itemsize, kv[0]))
    header, blobs, offset = {}, [], 0
    for name, t in items:
        data = _host_bytes(t)
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata is not None:
        header = {"__metadata__": dict(metadata), **header}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)  # the data starts at a multiple of 8
    return struct.pack("<Q", len(text)) + text, blobs


def _host_bytes(t):
    """t's elements in row-major order as bytes (from any device or layout)."""
    c = t.detach().contiguous()
    if c.device.type != "cpu":
        c = c.to("cpu")
    n = c.numel() * c.dtype.itemsize
    return ctypes.string_at(c.data_ptr(), n) if n else b""


def save(tensors, metadata=None):
    """The bytes of a safetensors file holding `tensors`."""
    head, blobs = _serialize(tensors, metadata)
    return head + b"".join(blobs)


def save_file(tensors, filename, metadata=None):
    """Writes {name: tensor} (any device, any layout) to `filename` as a safetensors file."""
    head, blobs = _serialize(tensors, metadata)
    tmp = f"{filename}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:  # written aside and renamed: a killed writer leaves the old file whole
        f.write(head)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())  # on disk before the rename: after a power loss the name holds old or new data
    os.replace(tmp, filename)
    _sync_folder(os.path.dirname(os.path.abspath(filename)))


def _sync_folder(path):
    """Makes a rename in `path` durable (POSIX: the folder's entry is data of its own)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # a folder that cannot be opened (Windows): the rename stands as the OS keeps it
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder
    finally:
        os.close(fd)


def save_model(model, filename, metadata=None):
    """Writes model.state_dict() (tensors shared between entries are written once per name, as values)."""
    save_file({k: v for k, v in model.state_dict().items()}, filename, metadata)


def load_model(model, filename, strict=True, device="cpu"):
    """Loads a save_model file into `model`; returns (missing, unexpected) key lists as torch's does."""
    state = load_file(filename, device=device)
    own = set(model.state_dict())
    missing, unexpected = sorted(own - set(state)), sorted(set(state) - own)
    if strict and (missing or unexpected):
        raise RuntimeError(f"load_model: missing keys {missing}, unexpected keys {unexpected}")
    model.load_state_dict(state, strict=False)
    return missing, unexpected


# ----- checkpoints --------------------------------------------------------------------------------

# Note [safetensors checkpoints]
# A training checkpoint is a nested structure (model and optimizer state dicts, a scheduler's, the step)
# whose leaves are tensors and plain values. save_checkpoint writes its tensors as a safetensors file's
# tensors, named by their path ("optimizer/state/0/exp_avg"), and the rest of the structure as JSON in the
# metadata entry CHECKPOINT_KEY, where each tensor stands as {"__tensor__": its name}; dicts keep their key
# types ({"__dict__": [[key, value], ...]}: an optimizer's state is keyed by int) and tuples stay tuples
# ({"__tuple__": [...]}: Adam's betas). Nothing is pickled, so loading runs no code from the file (as
# weights_only), and the file is written aside and renamed: a run killed while saving keeps its previous
# checkpoint whole.
CHECKPOINT_KEY = "vibetensor.checkpoint"


def _flatten(obj, path, tensors):
    from vibetensor import Tensor

    if isinstance(obj, Tensor):
        name = "/".join(path) or "tensor"
        tensors[name] = obj
        return {"__tensor__": name}
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError(f"save_checkpoint: a dict key of type {type(k).__name__} at {'/'.join(path) or '/'}; "
                                "expected str, int, float, bool or None")
        return {"__dict__": [[k, _flatten(v, path + [str(k)], tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        items = [_flatten(v, path + [str(i)], tensors) for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save_checkpoint: {type(obj).__name__} at {'/'.join(path) or '/'} is neither a tensor nor a "
                    "plain value (dict, list, tuple, str, number, bool, None)")


def _unflatten(node, tensors):
    if isinstance(node, list):
        return [_unflatten(v, tensors) for v in node]
    if isinstance(node, dict):
        if "__tensor__" in node:
            name = node["__tensor__"]
            if name not in tensors:
                raise SafetensorError(f"load_checkpoint: the structure names tensor {name!r}, which the file lacks")
            return tensors[name]
        if "__tuple__" in node:
            return tuple(_unflatten(v, tensors) for v in node["__tuple__"])
        if "__dict__" in node:
            return {k: _unflatten(v, tensors) for k, v in node["__dict__"]}
        raise SafetensorError(f"load_checkpoint: an unknown node {sorted(node)} in the structure")
    return node


def save_checkpoint(obj, filename):
    """Writes a nested structure of tensors and plain values (state dicts, the step, ...) to a safetensors file
    (Note [safetensors checkpoints]); other safetensors readers see its tensors by path."""
    tensors = {}
    skeleton = _flatten(obj, [], tensors)
    save_file(tensors, filename, {CHECKPOINT_KEY: json.dumps(skeleton)})


def load_checkpoint(filename, device="cpu"):
    """The structure save_checkpoint wrote, its tensors on `device`."""
    with safe_open(filename, device=device) as f:
        meta = f.metadata() or {}
        if CHECKPOINT_KEY not in meta:
            raise SafetensorError(f"load_checkpoint: {filename} is a safetensors file but not a checkpoint (no "
                                  f"{CHECKPOINT_KEY} entry in its metadata); load_file reads its tensors")
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    return _unflatten(json.loads(meta[CHECKPOINT_KEY]), tensors)
