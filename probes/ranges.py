"""Python-side probe ranges (step, forward, backward, optimizer): NVTX ranges in the
`vibetensor` domain when probes.nvtx is coarse or fine, trace events when probes.trace is on.
Off, a range costs two dictionary lookups of the current policy."""
import contextlib

from vibetensor import _C


@contextlib.contextmanager
def annotate(name: str):
    nvtx = _C._policy_get("probes.nvtx") != "off"
    trace = _C._policy_get("probes.trace") == "on"
    begin = _C._trace_clock_ns() if trace else 0
    if nvtx:
        _C._nvtx_push(name)
    try:
        yield
    finally:
        if nvtx:
            _C._nvtx_pop()
        if trace:
            _C._trace_record(name, begin)
