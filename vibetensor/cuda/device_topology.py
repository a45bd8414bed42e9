"""vt.cuda.topology(): the devices and what connects each ordered pair (Note [Device topology])."""
import math

from vibetensor.cuda import driver, nvml

# Note [Device topology]
# One row per ordered pair of visible devices (src, dst), src == dst included, so that a machine with one GPU
# still lists it. Columns: src, dst, their names and PCI bus ids; src_uva / dst_uva (the driver's
# UNIFIED_ADDRESSING attribute); for src != dst the driver's peer-to-peer answers: p2p_access (a kernel on src may
# read dst's memory once peer access is enabled: cuDeviceCanAccessPeer), p2p_native_atomics,
# p2p_performance_rank, p2p_cuda_array_access (cuDeviceGetP2PAttribute); None on the src == dst rows, which are
# no peer pair. NVLink from NVML: nvlink_active (src's active links, to any remote) and nvlink_to_dst (those
# whose remote end is dst: 0 behind an NVSwitch, whose links name the switch), NaN with the reason in
# nvlink_reason where NVML cannot say (no libnvidia-ml, no handle). Everything comes from libcuda and NVML loaded
# at run time (driver.py, nvml.py): without a CUDA build, a GPU or a driver the frame is empty, with the same
# columns, and frame.attrs["reason"] says why; no exception.

COLUMNS = ["src", "dst", "src_name", "dst_name", "src_pci_bus_id", "dst_pci_bus_id", "src_uva", "dst_uva",
           "p2p_access", "p2p_native_atomics", "p2p_performance_rank", "p2p_cuda_array_access", "nvlink_active",
           "nvlink_to_dst", "nvlink_reason"]


def _unavailable_reason():
    from vibetensor import cuda
    if not cuda.is_built():
        return "vibetensor was built without CUDA"
    if not cuda.is_available():
        return "no CUDA GPU is visible"
    return driver.unavailable_reason()


def _device_rows():
    devices = []
    for d in range(driver.device_count()):
        bus = driver.pci_bus_id(d)
        active, remotes, reason = nvml.nvlinks(bus)
        devices.append({"name": driver.name(d), "bus": bus, "uva": driver.unified_addressing(d),
                        "nvlink_active": active, "nvlink_remotes": remotes, "nvlink_reason": reason})
    return devices


def topology():
    """The devices and their pairs as a pandas DataFrame (Note [Device topology])."""
    import pandas as pd

    reason = _unavailable_reason()
    if reason:
        frame = pd.DataFrame(columns=COLUMNS)
        frame.attrs["reason"] = reason
        return frame
    devices = _device_rows()
    rows = []
    for s, src in enumerate(devices):
        for d, dst in enumerate(devices):
            row = {"src": s, "dst": d, "src_name": src["name"], "dst_name": dst["name"],
                   "src_pci_bus_id": src["bus"], "dst_pci_bus_id": dst["bus"], "src_uva": src["uva"],
                   "dst_uva": dst["uva"], "nvlink_reason": src["nvlink_reason"]}
            for attribute in driver.P2P_ATTRIBUTES:
                row[attribute] = None if s == d else driver.p2p_attribute(s, d, attribute)
            if s != d:
                row["p2p_access"] = driver.can_access_peer(s, d)
                row["p2p_native_atomics"] = bool(row["p2p_native_atomics"])
                row["p2p_cuda_array_access"] = bool(row["p2p_cuda_array_access"])
            if src["nvlink_active"] is None:
                row["nvlink_active"] = row["nvlink_to_dst"] = math.nan
            else:
                row["nvlink_active"] = src["nvlink_active"]
                row["nvlink_to_dst"] = src["nvlink_remotes"].get(nvml.normalize_bus_id(dst["bus"]), 0)
            rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.attrs["reason"] = None
    return frame
