"""Traces: the runtime's per-thread event rings exported as Chrome trace JSON in the Kineto
layout (Perfetto and Holistic Trace Analysis read it), GPU kernel activity from CUPTI merged on
the same timeline where a GPU is present, and a per-step summary.

    with vt.probes.trace("out.json") as t:
        for step in range(3):
            with vt.probes.annotate("step"):
                train_step()
    t.summary()   # DataFrame: one row per "step" range
"""
import bisect
import contextlib
import json
import os

from vibetensor import _C

# Note [Kineto layout]
# PyTorch's profiler (Kineto) writes host ops as cat "cpu_op" on (pid, tid), CUDA runtime calls as
# "cuda_runtime" on the calling thread, GPU work as "kernel" / "gpu_memcpy" / "gpu_memset" with
# pid = device and tid = stream, and links them: a runtime call and the GPU work it launched share
# args["correlation"] (and an "ac2g" flow pair), a host op and the runtime calls inside it share
# args["External id"]. Holistic Trace Analysis reads exactly these fields (plus the top-level
# distributedInfo.rank and deviceProperties), so our traces follow the same layout.

# Kineto categories: runtime ops show as CPU ops, Python ranges as user annotations.
_KINETO_CAT = {"op": "cpu_op", "dispatch": "cpu_op", "autograd": "cpu_op", "alloc": "cpu_op", "sync": "cuda_runtime",
               "python": "user_annotation"}


class Trace:
    def __init__(self, path: str | None):
        self.path = path
        self.cpu_events = []       # (begin_ns, end_ns, name, category, tid)
        self.gpu_events = []       # cupti.GpuRecord: kernels, memcpys, memsets (trace clock)
        self.runtime_events = []   # cupti.RuntimeRecord: the launch calls of gpu_events
        self.gpu_clock = None      # {"offset_ns", "uncertainty_ns", "drift_ns"}: Note [CUPTI clock]
        self.dropped = 0

    def chrome_trace(self) -> dict:
        """The Kineto layout: host events on (pid, thread) tracks, GPU work on (device, stream)
        tracks, cuda_runtime launch events and GPU events sharing "correlation", host ops and the
        launches inside them sharing "External id". See Note [Kineto layout]."""
        pid = os.getpid()
        events = []
        base = min([e[0] for e in self.cpu_events] + [g.start_ns for g in self.gpu_events]
                   + [r.start_ns for r in self.runtime_events], default=0)
        us = lambda ns: (ns - base) / 1e3  # noqa: E731
        external = {}  # index in cpu_events -> External id
        steps = 0
        for i, (b, e, name, cat, tid) in enumerate(self.cpu_events):
            args = {"vt_category": cat}
            if cat != "python":
                args["External id"] = external.setdefault(i, len(external) + 1)
            elif name == "step":  # Kineto's iteration marker, which HTA splits iterations by
                name, steps = f"ProfilerStep#{steps}", steps + 1
            events.append({"ph": "X", "cat": _KINETO_CAT.get(cat, "cpu_op"), "name": name, "pid": pid, "tid": tid,
                           "ts": us(b), "dur": (e - b) / 1e3, "args": args})
        launch_ext = self._launch_external_ids(external)
        ext_of_corr = {}
        for r in self.runtime_events:
            tid, ext = launch_ext.get(r.correlation, (r.thread_id, 0))
            ext_of_corr[r.correlation] = ext
            events.append({"ph": "X", "cat": "cuda_runtime", "name": r.name, "pid": pid, "tid": tid, "ts": us(r.start_ns),
                           "dur": (r.end_ns - r.start_ns) / 1e3,
                           "args": {"correlation": r.correlation, "External id": ext, "cupti_thread_id": r.thread_id}})
            events.append({"ph": "s", "id": r.correlation, "pid": pid, "tid": tid, "ts": us(r.start_ns),
                           "cat": "ac2g", "name": "ac2g"})
        launched = {r.correlation for r in self.runtime_events}
        tracks = set()
        for g in self.gpu_events:
            args = {"External id": ext_of_corr.get(g.correlation, 0), "device": g.device, "stream": g.stream,
                    "correlation": g.correlation}
            if g.kind == "kernel":
                args.update(grid=list(g.grid), block=list(g.block))
            else:
                args["bytes"] = g.bytes
            events.append({"ph": "X", "cat": _GPU_CAT[g.kind], "name": g.name, "pid": g.device, "tid": g.stream,
                           "ts": us(g.start_ns), "dur": (g.end_ns - g.start_ns) / 1e3, "args": args})
            if g.correlation in launched:
                events.append({"ph": "f", "id": g.correlation, "pid": g.device, "tid": g.stream, "ts": us(g.start_ns),
                               "cat": "ac2g", "name": "ac2g", "bp": "e"})
            tracks.add((g.device, g.stream))
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": "host (vibetensor)"}})
        for device in sorted({d for d, _ in tracks}):
            events.append({"ph": "M", "name": "process_name", "pid": device, "tid": 0, "args": {"name": f"GPU {device}"}})
        for device, stream in sorted(tracks):
            events.append({"ph": "M", "name": "thread_name", "pid": device, "tid": stream,
                           "args": {"name": f"stream {stream}"}})
        meta = {"dropped_events": self.dropped, "policy": _C._policy_current(), "clock": "CLOCK_MONOTONIC"}
        if self.gpu_clock:
            meta["gpu_clock"] = self.gpu_clock
        return {"schemaVersion": 1, "displayTimeUnit": "ms", "baseTimeNanoseconds": base,
                "distributedInfo": {"backend": "none", "rank": 0, "world_size": 1},
                "deviceProperties": _device_properties(sorted({d for d, _ in tracks})), "traceEvents": events,
                "vibetensor": meta}

    def _launch_external_ids(self, external: dict) -> dict:
        """correlation -> (host tid, External id of the innermost host op around the launch).
        CUPTI names threads by pthread_self, the rings by a hash of the thread id, so each CUPTI
        thread is mapped to the ring thread whose ops enclose most of its launches."""
        if not self.runtime_events:
            return {}
        by_tid = {}
        for i, (b, e, _, cat, tid) in enumerate(self.cpu_events):
            if cat != "python":
                by_tid.setdefault(tid, []).append((b, e, i))
        for evs in by_tid.values():
            evs.sort()

        def innermost(evs, t):
            k = bisect.bisect_right(evs, (t, float("inf"), 0))
            best = None
            for b, e, i in reversed(evs[:k]):  # later begin = more deeply nested
                if e >= t:
                    best = i
                    break
            return best

        votes = {}
        for r in self.runtime_events:
            for tid, evs in by_tid.items():
                if innermost(evs, r.start_ns) is not None:
                    votes.setdefault(r.thread_id, {}).setdefault(tid, 0)
                    votes[r.thread_id][tid] += 1
        thread_map = {c: max(v, key=v.get) for c, v in votes.items()}
        out = {}
        for r in self.runtime_events:
            tid = thread_map.get(r.thread_id)
            if tid is None:
                continue
            i = innermost(by_tid[tid], r.start_ns)
            out[r.correlation] = (tid, external[i] if i is not None else 0)
        return out

    def save(self, path: str | None = None) -> str:
        path = path or self.path
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.chrome_trace(), f)
        os.replace(tmp, path)
        return path

    def summary(self, step_name: str = "step"):
        """One row per `step_name` range: host wall time, ops and nodes inside it, time per
        category; with GPU activity, the kernels launched inside the step (by their launch call;
        by start time where the launch was not recorded), their count, GPU busy time (union of
        kernel intervals), the idle time between the first and last kernel and its largest gap."""
        import pandas as pd

        steps = sorted((b, e) for b, e, n, c, _ in self.cpu_events if c == "python" and n == step_name)
        launch_ns = {r.correlation: r.start_ns for r in self.runtime_events}
        rows = []
        for i, (b, e) in enumerate(steps):
            inside = [ev for ev in self.cpu_events if ev[0] >= b and ev[1] <= e and ev[3] != "python"]
            row = {"step": i, "host_ms": (e - b) / 1e6, "ops": sum(1 for ev in inside if ev[3] == "op")}
            for cat in ("op", "dispatch", "autograd", "alloc", "sync"):
                # time of outermost events of each category (nested ops count once)
                row[f"{cat}_ms"] = _outer_time(ev for ev in inside if ev[3] == cat) / 1e6
            if self.gpu_events:
                kernels = sorted((g.start_ns, g.end_ns) for g in self.gpu_events if g.kind == "kernel"
                                 and b <= launch_ns.get(g.correlation, g.start_ns) < e)
                busy = union_ns(kernels)
                span = (max(k[1] for k in kernels) - kernels[0][0]) if kernels else 0
                row.update(kernels=len(kernels), gpu_busy_ms=busy / 1e6,
                           gpu_busy_fraction=busy / (e - b) if e > b else 0.0,
                           gpu_span_ms=span / 1e6, gpu_idle_ms=(span - busy) / 1e6,
                           max_idle_gap_ms=_max_gap(kernels) / 1e6)
            rows.append(row)
        return pd.DataFrame(rows)


_GPU_CAT = {"kernel": "kernel", "memcpy": "gpu_memcpy", "memset": "gpu_memset"}


def _device_properties(devices) -> list:
    """Kineto's deviceProperties entries (HTA reads them for per-device analyses)."""
    import vibetensor as vt

    out = []
    for d in devices:
        if not vt.cuda.is_available():  # records given as data (tests) on a machine without a GPU
            out.append({"id": d})
            continue
        major, minor = vt.cuda.get_device_capability(d)
        out.append({"id": d, "name": vt.cuda.get_device_name(d), "computeMajor": major, "computeMinor": minor})
    return out


def _outer_time(events) -> int:
    return union_ns(sorted((b, e) for b, e, *_ in events))


def union_ns(intervals) -> int:
    """Length of the union of (begin, end) intervals sorted by begin: overlaps count once."""
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
    cupti=None records GPU kernels when a GPU and CUPTI (the native collector or cupti-python) are
    present; True requires them (RuntimeError naming what is missing); False never records them."""
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
            gpu.__exit__(None, None, None)  # synchronizes the devices and flushes CUPTI
            t.gpu_events, t.runtime_events = gpu.records, gpu.runtime_records
            t.gpu_clock = {"offset_ns": gpu.clock_offset_ns, "uncertainty_ns": gpu.clock_uncertainty_ns,
                           "drift_ns": gpu.clock_drift_ns}
        if path:
            t.save()
