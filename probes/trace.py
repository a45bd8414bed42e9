"""Traces: the runtime's per-thread event rings exported as Chrome trace JSON in the Kineto
layout (Perfetto and Holistic Trace Analysis read it), GPU kernel activity from CUPTI merged on
the same timeline where a GPU is present, and a per-step summary.

    with vt.probes.trace("out.json") as t:
        for step in range(3):
            with vt.probes.annotate("step"):
                train_step()
    t.summary()   # DataFrame: one row per "step" range
"""
import contextlib
import json
import os

from vibetensor import _C

# Kineto categories: runtime ops show as CPU ops, Python ranges as user annotations.
_KINETO_CAT = {"op": "cpu_op", "dispatch": "cpu_op", "autograd": "cpu_op", "alloc": "cpu_op", "sync": "cuda_runtime",
               "python": "user_annotation"}


class Trace:
    def __init__(self, path: str | None):
        self.path = path
        self.cpu_events = []   # (begin_ns, end_ns, name, category, tid)
        self.gpu_events = []   # (begin_ns, end_ns, name, device, stream) from CUPTI
        self.dropped = 0

    def chrome_trace(self) -> dict:
        pid = os.getpid()
        events = []
        base = min([e[0] for e in self.cpu_events] + [e[0] for e in self.gpu_events], default=0)
        for b, e, name, cat, tid in self.cpu_events:
            events.append({"ph": "X", "cat": _KINETO_CAT.get(cat, "cpu_op"), "name": name, "pid": pid, "tid": tid,
                           "ts": (b - base) / 1e3, "dur": (e - b) / 1e3, "args": {"vt_category": cat}})
        for b, e, name, device, stream in self.gpu_events:
            events.append({"ph": "X", "cat": "kernel", "name": name, "pid": device, "tid": stream,
                           "ts": (b - base) / 1e3, "dur": (e - b) / 1e3,
                           "args": {"device": device, "stream": stream}})
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": "host (vibetensor)"}})
        return {"schemaVersion": 1, "displayTimeUnit": "ms", "baseTimeNanoseconds": base,
                "distributedInfo": {"backend": "none", "rank": 0, "world_size": 1},
                "deviceProperties": [], "traceEvents": events,
                "vibetensor": {"dropped_events": self.dropped, "policy": _C._policy_current()}}

    def save(self, path: str | None = None) -> str:
        path = path or self.path
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.chrome_trace(), f)
        os.replace(tmp, path)
        return path

    def summary(self, step_name: str = "step"):
        """One row per `step_name` range: host wall time, ops and nodes inside it, time per
        category; with GPU activity, kernel count, GPU busy time and the largest idle gap."""
        import pandas as pd

        steps = sorted((b, e) for b, e, n, c, _ in self.cpu_events if c == "python" and n == step_name)
        rows = []
        for i, (b, e) in enumerate(steps):
            inside = [ev for ev in self.cpu_events if ev[0] >= b and ev[1] <= e and ev[3] != "python"]
            row = {"step": i, "host_ms": (e - b) / 1e6, "ops": sum(1 for ev in inside if ev[3] == "op")}
            for cat in ("op", "dispatch", "autograd", "alloc", "sync"):
                # time of outermost events of each category (nested ops count once)
                row[f"{cat}_ms"] = _outer_time(ev for ev in inside if ev[3] == cat) / 1e6
            kernels = sorted((kb, ke) for kb, ke, *_ in self.gpu_events if kb >= b and kb < e)
            if self.gpu_events:
                busy = _union_time(kernels)
                row.update(kernels=len(kernels), gpu_busy_ms=busy / 1e6,
                           gpu_busy_fraction=busy / (e - b) if e > b else 0.0,
                           max_idle_gap_ms=_max_gap(kernels) / 1e6)
            rows.append(row)
        return pd.DataFrame(rows)


def _outer_time(events) -> int:
    return _union_time(sorted((b, e) for b, e, *_ in events))


def _union_time(intervals) -> int:
    total, cur_b, cur_e = 0, None, None
    for b, e in intervals:
        if cur_e is None or b > cur_e:
            if cur_e is not None:
                total += cur_e - cur_b
            cur_b, cur_e = b, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_b
    return total


def _max_gap(intervals) -> int:
    gap, last_end = 0, None
    for b, e in intervals:
        if last_end is not None and b > last_end:
            gap = max(gap, b - last_end)
        last_end = e if last_end is None else max(last_end, e)
    return gap


@contextlib.contextmanager
def trace(path: str | None = None, cupti: bool | None = None):
    """Records everything the runtime does inside the block; saves a Chrome trace to `path`.
    cupti=None records GPU kernels when a GPU and cupti-python are present; True requires them
    (RuntimeError naming what is missing); False never records them."""
    from vibetensor.probes import cupti as cupti_mod

    gpu = cupti_mod.start(required=bool(cupti)) if cupti is not False else None
    prev = _C._policy_get("probes.trace")
    _C._trace_drain()  # drop events recorded before the block
    _C._policy_set("probes.trace", "on")
    dropped0 = _C._trace_dropped()
    t = Trace(path)
    try:
        yield t
    finally:
        _C._policy_set("probes.trace", prev)
        t.cpu_events = _C._trace_drain()
        t.dropped = _C._trace_dropped() - dropped0
        if gpu is not None:
            t.gpu_events = gpu.stop()
        if path:
            t.save()
