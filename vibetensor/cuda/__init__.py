"""vibetensor.cuda: CUDA devices, streams, events, memory statistics and the sync ledger.

Mirrors torch.cuda where the two overlap. In a build without CUDA, ``is_available()`` is False,
``device_count()`` is 0 and every other call raises RuntimeError("vibetensor was built without
CUDA"); in a CUDA build on a machine without a GPU (or driver) they raise RuntimeError("no CUDA
GPU is available ...").
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Dict, List, Optional, Union

from vibetensor import _C

_cuda = _C._cuda

__all__ = [
    "is_built", "is_available", "is_bf16_supported", "device_count", "current_device", "set_device", "get_device_name",
    "get_device_capability", "get_device_properties", "synchronize", "Stream", "ExternalStream", "Event", "current_stream",
    "default_stream", "set_stream", "stream", "memory_stats", "memory_allocated", "memory_reserved",
    "max_memory_allocated", "max_memory_reserved", "reset_peak_memory_stats",
    "reset_accumulated_memory_stats", "memory_snapshot", "empty_cache", "get_allocator_backend",
    "sync_ledger", "reset_sync_ledger", "record_stream", "pin_memory", "is_pinned", "device",
    "CUDAGraph", "graph", "graph_pool_handle", "graphed_step", "GraphedStep", "is_current_stream_capturing", "manual_seed", "manual_seed_all",
    "seed", "seed_all", "initial_seed", "get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all",
    "topology", "fabric",
]

DeviceLike = Union[None, int, str, "_C.device"]


def is_built() -> bool:
    """Whether this build of vibetensor has the CUDA backend."""
    return bool(_cuda.is_built())


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether bfloat16 tensors can be used on the current CUDA device (compute capability 8.0 or newer, as
    torch answers; False without a GPU)."""
    if not is_available():
        return False
    return get_device_capability()[0] >= 8


def is_available() -> bool:
    """True when the CUDA backend is built and at least one GPU (with a working driver) is visible."""
    return bool(_cuda.is_built()) and bool(_cuda.is_available())


def device_count() -> int:
    return int(_cuda.device_count()) if _cuda.is_built() else 0


def _require() -> None:
    if not _cuda.is_built():
        raise RuntimeError("vibetensor was built without CUDA (rebuild with VT_CUDA=on where nvcc is installed)")
    if not _cuda.is_available():
        raise RuntimeError(f"no CUDA GPU is available ({_cuda.unavailable_reason()})")


def _device_index(device: DeviceLike, optional: bool = True) -> int:
    """-1 (the current device) for None, else the index of a CUDA device given as int, str or device."""
    if device is None:
        if optional:
            return -1
        raise ValueError("expected a CUDA device, got None")
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    if isinstance(device, str):
        device = _C.device(device)
    if isinstance(device, _C.device):
        if device.type != "cuda":
            raise ValueError(f"expected a CUDA device, got {device}")
        return device.index if device.index is not None else -1
    raise TypeError(f"expected a CUDA device (int, str or vibetensor.device), got {type(device).__name__}")


def current_device() -> int:
    _require()
    return int(_cuda.current_device())


def set_device(device: DeviceLike) -> None:
    _require()
    idx = _device_index(device)
    if idx >= 0:
        _cuda.set_device(idx)


class device:
    """Context manager that makes ``device`` current and restores the previous one."""

    def __init__(self, device: DeviceLike):
        self.idx = _device_index(device)
        self.prev = -1

    def __enter__(self):
        _require()
        self.prev = _cuda.current_device()
        if self.idx >= 0 and self.idx != self.prev:
            _cuda.set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.idx >= 0 and self.idx != self.prev:
            _cuda.set_device(self.prev)
        return False


def get_device_name(device: DeviceLike = None) -> str:
    _require()
    return _cuda.get_device_name(_device_index(device))


def get_device_capability(device: DeviceLike = None) -> tuple:
    _require()
    return tuple(_cuda.get_device_capability(_device_index(device)))


class _CudaDeviceProperties:
    """What get_device_properties returns: torch's fields (name, major, minor, total_memory in bytes,
    multi_processor_count, L2_cache_size, warp_size, ...) as attributes, and torch's repr."""

    def __init__(self, fields):
        self.__dict__.update(fields)

    def __repr__(self):
        mib = 1024 * 1024
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // mib}MB, multi_processor_count={self.multi_processor_count}, "
                f"L2_cache_size={self.L2_cache_size // mib}MB)")


def get_device_properties(device: DeviceLike = None) -> _CudaDeviceProperties:
    """The device's properties, read from the driver (torch.cuda.get_device_properties)."""
    _require()
    return _CudaDeviceProperties(_cuda.get_device_properties(_device_index(device)))


def synchronize(device: DeviceLike = None) -> None:
    """Waits for all work on the device (counted in the sync ledger as "device_synchronize")."""
    _require()
    _cuda.synchronize(_device_index(device))


# ---- streams --------------------------------------------------------------------------------

class Stream:
    """A CUDA stream from vibetensor's pool (see Note [Stream pool] in csrc/cuda/stream.h).

    ``with stream:`` makes it the current stream of its device for the block (and the device
    current). Lower ``priority`` values are more urgent (e.g. -1 high, 0 normal).
    """

    def __init__(self, device: DeviceLike = None, priority: int = 0, *, _handle: Any = None):
        if _handle is None:
            _require()
            _handle = _cuda.stream_from_pool(_device_index(device), int(priority))
        self._s = _handle
        self._tls = threading.local()  # per-thread stack of what __enter__ replaced

    @property
    def device_index(self) -> int:
        return self._s.device_index

    @property
    def device(self):
        return _C.device("cuda", self._s.device_index)

    @property
    def cuda_stream(self) -> int:
        """The cudaStream_t handle as an int (0 is the legacy default stream)."""
        return self._s.cuda_stream

    @property
    def priority(self) -> int:
        return self._s.priority

    def query(self) -> bool:
        return self._s.query()

    def synchronize(self) -> None:
        self._s.synchronize()

    def wait_stream(self, stream: "Stream") -> None:
        self._s.wait_stream(stream._s)

    def wait_event(self, event: "Event") -> None:
        event.wait(self)

    def record_event(self, event: Optional["Event"] = None) -> "Event":
        if event is None:
            event = Event()
        event.record(self)
        return event

    def __enter__(self):
        prev_dev = _cuda.current_device()
        prev_stream = _cuda.current_stream(self._s.device_index)
        if not hasattr(self._tls, "prev"):
            self._tls.prev = []
        self._tls.prev.append((prev_dev, prev_stream))
        if prev_dev != self._s.device_index:
            _cuda.set_device(self._s.device_index)
        _cuda.set_current_stream(self._s)
        return self

    def __exit__(self, *exc):
        prev_dev, prev_stream = self._tls.prev.pop()
        _cuda.set_current_stream(prev_stream)
        if prev_dev != self._s.device_index:
            _cuda.set_device(prev_dev)
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stream) and self._s == other._s

    def __hash__(self) -> int:
        return hash(self._s)

    def __repr__(self) -> str:
        return f"<vibetensor.cuda.Stream device=cuda:{self.device_index} cuda_stream={self.cuda_stream:#x}>"


class ExternalStream(Stream):
    """A stream created elsewhere (e.g. ``torch.cuda.current_stream().cuda_stream``); never destroyed here."""

    def __init__(self, stream_ptr: int, device: DeviceLike = None):
        _require()
        super().__init__(_handle=_cuda.external_stream(int(stream_ptr), _device_index(device)))


def current_stream(device: DeviceLike = None) -> Stream:
    _require()
    return Stream(_handle=_cuda.current_stream(_device_index(device)))


def default_stream(device: DeviceLike = None) -> Stream:
    _require()
    return Stream(_handle=_cuda.default_stream(_device_index(device)))


def set_stream(s: Stream) -> None:
    _require()
    _cuda.set_current_stream(s._s)


@contextlib.contextmanager
def stream(s: Optional[Stream]):
    """``with vibetensor.cuda.stream(s):`` runs the block with ``s`` current (no-op for None)."""
    if s is None:
        yield
        return
    with s:
        yield


# ---- events ---------------------------------------------------------------------------------

class Event:
    """A CUDA event: record() on a stream, then wait()/query()/synchronize()/elapsed_time()."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False):
        _require()
        if interprocess:
            raise NotImplementedError("vibetensor.cuda.Event: interprocess events are not supported")
        self._e = _cuda.Event(bool(enable_timing), bool(blocking))

    def record(self, stream: Optional[Stream] = None) -> None:
        if stream is None:
            stream = current_stream()
        self._e.record(stream._s)

    def wait(self, stream: Optional[Stream] = None) -> None:
        if stream is None:
            stream = current_stream()
        self._e.wait(stream._s)

    def query(self) -> bool:
        return self._e.query()

    def synchronize(self) -> None:
        self._e.synchronize()

    def elapsed_time(self, end_event: "Event") -> float:
        """Milliseconds between this event and ``end_event`` (both recorded and completed)."""
        return self._e.elapsed_time(end_event._e)

    @property
    def cuda_event(self) -> int:
        return self._e.cuda_event

    def __repr__(self) -> str:
        return f"<vibetensor.cuda.Event cuda_event={self.cuda_event:#x}>"


# ---- memory ---------------------------------------------------------------------------------

def memory_stats(device: DeviceLike = None) -> Dict[str, int]:
    """Allocator statistics of a device, with torch.cuda.memory_stats' key names where they overlap
    ("allocated_bytes.all.current", "reserved_bytes.all.current", "num_device_alloc", ...) plus
    "num_cache_hits"/"num_cache_misses"."""
    _require()
    return dict(_cuda.memory_stats(_device_index(device)))


def memory_allocated(device: DeviceLike = None) -> int:
    return memory_stats(device)["allocated_bytes.all.current"]


def memory_reserved(device: DeviceLike = None) -> int:
    return memory_stats(device)["reserved_bytes.all.current"]


def max_memory_allocated(device: DeviceLike = None) -> int:
    return memory_stats(device)["allocated_bytes.all.peak"]


def max_memory_reserved(device: DeviceLike = None) -> int:
    return memory_stats(device)["reserved_bytes.all.peak"]


def reset_peak_memory_stats(device: DeviceLike = None) -> None:
    _require()
    _cuda.reset_peak_memory_stats(_device_index(device))


def reset_accumulated_memory_stats(device: DeviceLike = None) -> None:
    _require()
    _cuda.reset_accumulated_memory_stats(_device_index(device))


def memory_snapshot() -> List[Dict[str, Any]]:
    """Segments of device memory with their blocks: address, size, allocated, state, stream."""
    _require()
    return list(_cuda.memory_snapshot())


def empty_cache() -> None:
    """Returns cached, unused device memory (and pinned host memory) to the driver."""
    _require()
    _cuda.empty_cache()


def get_allocator_backend() -> str:
    """The alloc.cuda strategy in force ("caching", "async" or "direct")."""
    if not _cuda.is_built():
        raise RuntimeError("vibetensor was built without CUDA")
    return _cuda.allocator_backend()


def record_stream(tensor, s: Stream) -> None:
    """Marks ``tensor``'s memory as used by work on ``s`` (see Tensor.record_stream in torch)."""
    _require()
    _cuda.record_stream(tensor, s._s)


def pin_memory(tensor):
    """A copy of a CPU tensor in page-locked memory (for non_blocking copies)."""
    _require()
    return _cuda.pin_memory(tensor)


def is_pinned(tensor) -> bool:
    return bool(_cuda.is_built() and _cuda.is_available() and _cuda.is_pinned(tensor))


# ---- sync ledger ----------------------------------------------------------------------------

def sync_ledger() -> Dict[str, int]:
    """Host-blocking CUDA calls so far, by call site (see Note [Sync ledger] in csrc/cuda/sync_ledger.h)."""
    if not _cuda.is_built():
        raise RuntimeError("vibetensor was built without CUDA")
    return dict(_cuda.sync_ledger())


def reset_sync_ledger() -> None:
    if not _cuda.is_built():
        raise RuntimeError("vibetensor was built without CUDA")
    _cuda.reset_sync_ledger()


# ---- CUDA graphs ----------------------------------------------------------------------------

from vibetensor.cuda.graphs import CUDAGraph, graph, graph_pool_handle  # noqa: E402
from vibetensor.cuda.graphed_step import GraphedStep, graphed_step  # noqa: E402
from vibetensor.cuda.random import (  # noqa: E402
    get_rng_state, get_rng_state_all, initial_seed, manual_seed, manual_seed_all, seed, seed_all, set_rng_state,
    set_rng_state_all)


def is_current_stream_capturing() -> bool:
    """True while this thread captures a CUDA graph (Note [CUDA graph capture])."""
    return bool(_cuda.is_built()) and bool(_cuda.is_current_thread_capturing())
from vibetensor.cuda import amp  # noqa: E402,F401  (torch.cuda.amp)
from vibetensor.cuda import fabric  # noqa: E402,F401  (Note [Fabric])
from vibetensor.cuda.device_topology import topology  # noqa: E402,F401  (Note [Device topology])
