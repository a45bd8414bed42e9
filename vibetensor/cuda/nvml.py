"""NVLink links between GPUs as NVML reports them, through libnvidia-ml loaded at run time (ctypes); the build
never links it, and a machine without it gets the reason instead of numbers."""
import ctypes

from vibetensor.cuda.shared_library import SharedLibrary

_MAX_LINKS = 18  # NVML_NVLINK_MAX_LINKS
_NOT_SUPPORTED = 3  # NVML_ERROR_NOT_SUPPORTED: the GPU has no NVLink
_INVALID_ARGUMENT = 2  # a link index past the GPU's links


class _PciInfo(ctypes.Structure):  # nvmlPciInfo_t
    _fields_ = [("busIdLegacy", ctypes.c_char * 16), ("domain", ctypes.c_uint), ("bus", ctypes.c_uint),
                ("device", ctypes.c_uint), ("pciDeviceId", ctypes.c_uint), ("pciSubSystemId", ctypes.c_uint),
                ("busId", ctypes.c_char * 32)]


def _initialize(lib):
    lib.nvmlErrorString.restype = ctypes.c_char_p
    result = lib.nvmlInit_v2()
    return None if result == 0 else f"nvmlInit failed: NVML error {result} ({lib.nvmlErrorString(result).decode()})"


_library = SharedLibrary("libnvidia-ml.so.1", "NVML", _initialize)


def normalize_bus_id(bus_id):
    """'0000:3B:00.0' (CUDA) and '00000000:3b:00.0' (NVML) alike: (domain, bus, device, function)."""
    domain, bus, rest = bus_id.strip().split(":")
    device, function = rest.split(".")
    return int(domain, 16), int(bus, 16), int(device, 16), int(function, 16)


def nvlinks(bus_id):
    """(active links, {remote bus id (normalized): links to it}, None) of the GPU at `bus_id`, or (None, None,
    reason) when NVML cannot say. A GPU without NVLink has 0 links. Links to an NVSwitch name the switch as their
    remote, not the GPU behind it."""
    lib = _library.get()
    if lib is None:
        return None, None, _library.reason
    handle = ctypes.c_void_p()
    result = lib.nvmlDeviceGetHandleByPciBusId_v2(bus_id.encode(), ctypes.byref(handle))
    if result != 0:
        return None, None, f"nvmlDeviceGetHandleByPciBusId({bus_id}): NVML error {result} " \
                           f"({lib.nvmlErrorString(result).decode()})"
    active, remotes = 0, {}
    for link in range(_MAX_LINKS):
        state = ctypes.c_int()
        result = lib.nvmlDeviceGetNvLinkState(handle, link, ctypes.byref(state))
        if result in (_NOT_SUPPORTED, _INVALID_ARGUMENT):
            break
        if result != 0 or not state.value:
            continue
        active += 1
        pci = _PciInfo()
        if lib.nvmlDeviceGetNvLinkRemotePciInfo_v2(handle, link, ctypes.byref(pci)) == 0:
            remote = normalize_bus_id(pci.busId.decode())
            remotes[remote] = remotes.get(remote, 0) + 1
    return active, remotes, None
