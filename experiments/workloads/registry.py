"""Workload names -> classes. Unknown names raise ValueError listing the known ones."""
import importlib

WORKLOADS = {
    "seq_reverse": "vibetensor.experiments.workloads.seq_reverse",
}


def get_workload(name: str):
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r}: expected one of {sorted(WORKLOADS)}")
    return importlib.import_module(WORKLOADS[name]).Workload
