"""The CUDA driver API's peer-to-peer queries and peer enabling, through libcuda loaded at run time (ctypes), for
the topology (topology.py) and Fabric (fabric.py); the build never links it.

Device ordinals are the runtime's: the driver enumerates under the same CUDA_VISIBLE_DEVICES / CUDA_DEVICE_ORDER.
Contexts are the devices' primary contexts, the ones vibetensor's runtime calls use, so peer access enabled here
is the runtime's too.
"""
import ctypes
import threading

from vibetensor.cuda.shared_library import SharedLibrary

_UNIFIED_ADDRESSING = 41  # CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING
P2P_ATTRIBUTES = {"p2p_performance_rank": 1, "p2p_access": 2, "p2p_native_atomics": 3,
                  "p2p_cuda_array_access": 4}  # CU_DEVICE_P2P_ATTRIBUTE_*
_PEER_ALREADY_ENABLED = 704  # CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED

def _initialize(lib):
    lib.cuGetErrorString.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
    result = lib.cuInit(0)
    return None if result == 0 else f"cuInit failed: {_error_string(lib, result)}"


_library = SharedLibrary("libcuda.so.1", "the CUDA driver library", _initialize)


def library():
    """libcuda, initialized once; None (see unavailable_reason()) where it cannot be loaded or initialized."""
    return _library.get()


def unavailable_reason():
    _library.get()
    return _library.reason


def _error_string(lib, result):
    text = ctypes.c_char_p()
    lib.cuGetErrorString(result, ctypes.byref(text))
    return f"CUDA driver error {result} ({text.value.decode() if text.value else 'unknown'})"


def _call(what, *args):
    lib = library()
    if lib is None:
        raise RuntimeError(f"{what}: {_library.reason}")
    result = getattr(lib, what)(*args)
    if result != 0:
        raise RuntimeError(f"{what} failed: {_error_string(lib, result)}")


def device_count():
    n = ctypes.c_int()
    _call("cuDeviceGetCount", ctypes.byref(n))
    return n.value


def _device(ordinal):
    d = ctypes.c_int()
    _call("cuDeviceGet", ctypes.byref(d), ordinal)
    return d


def name(ordinal):
    buf = ctypes.create_string_buffer(256)
    _call("cuDeviceGetName", buf, 256, _device(ordinal))
    return buf.value.decode()


def pci_bus_id(ordinal):
    buf = ctypes.create_string_buffer(64)
    _call("cuDeviceGetPCIBusId", buf, 64, _device(ordinal))
    return buf.value.decode()


def unified_addressing(ordinal):
    v = ctypes.c_int()
    _call("cuDeviceGetAttribute", ctypes.byref(v), _UNIFIED_ADDRESSING, _device(ordinal))
    return bool(v.value)


def can_access_peer(reader, owner):
    v = ctypes.c_int()
    _call("cuDeviceCanAccessPeer", ctypes.byref(v), _device(reader), _device(owner))
    return bool(v.value)


def p2p_attribute(src, dst, attribute):
    """One of P2P_ATTRIBUTES between two distinct devices (cuDeviceGetP2PAttribute)."""
    v = ctypes.c_int()
    _call("cuDeviceGetP2PAttribute", ctypes.byref(v), P2P_ATTRIBUTES[attribute], _device(src), _device(dst))
    return v.value


_enabled = set()  # (reader, owner) pairs whose peer access this process has enabled
_enable_lock = threading.Lock()


def enable_peer_access(reader, owner):
    """Lets kernels on `reader` dereference `owner`'s memory: cuCtxEnablePeerAccess from reader's primary context
    to owner's, once per pair for the process (thread-safe; a pair already enabled, here or by anyone else in the
    process, is fine)."""
    with _enable_lock:
        if (reader, owner) in _enabled:
            return
        lib = library()
        if lib is None:
            raise RuntimeError(f"enable_peer_access: {_library.reason}")
        contexts = []
        for ordinal in (reader, owner):
            ctx = ctypes.c_void_p()
            _call("cuDevicePrimaryCtxRetain", ctypes.byref(ctx), _device(ordinal))
            contexts.append(ctx)
        _call("cuCtxPushCurrent_v2", contexts[0])
        try:
            result = lib.cuCtxEnablePeerAccess(contexts[1], 0)
        finally:
            popped = ctypes.c_void_p()
            _call("cuCtxPopCurrent_v2", ctypes.byref(popped))
        if result not in (0, _PEER_ALREADY_ENABLED):
            raise RuntimeError(f"cuCtxEnablePeerAccess (cuda:{reader} reading cuda:{owner}) failed: "
                               f"{_error_string(lib, result)}")
        _enabled.add((reader, owner))  # the primary contexts stay retained: the runtime keeps using them
