"""Probes: lock statistics (/proc/lock_stat fields) and event counters from the C++ runtime.

Lock statistics are recorded while probes.locks=on and counters while probes.counters=on
(vt.policy.set("probes.locks", "on")). snapshot() / diff() give per-step deltas:

    import vibetensor.probes  # a layer above vibetensor: `import vibetensor` alone does not import it
    before = vt.probes.snapshot(); step(); d = vt.probes.diff(before, vt.probes.snapshot())
    d.counters, d.locks   # DataFrames of what happened in between
"""
import dataclasses
import time

from vibetensor import _C

_LOCK_FIELDS = ["name", "acquisitions", "contentions", "wait_total_ns", "wait_max_ns", "hold_total_ns", "hold_max_ns"]
# Cumulative lock fields (the max fields are not differences of snapshots).
_LOCK_SUMS = ["acquisitions", "contentions", "wait_total_ns", "hold_total_ns"]


def _with_averages(df):
    # As /proc/lock_stat: waittime-avg over contentions (waits), holdtime-avg over acquisitions.
    df["wait_avg_ns"] = (df["wait_total_ns"] / df["contentions"].where(df["contentions"] > 0)).fillna(0.0)
    df["hold_avg_ns"] = (df["hold_total_ns"] / df["acquisitions"].where(df["acquisitions"] > 0)).fillna(0.0)
    return df


def _locks_frame(rows):
    import pandas as pd

    return _with_averages(pd.DataFrame(rows, columns=_LOCK_FIELDS))


def _counters_frame(pairs):
    import pandas as pd

    return pd.DataFrame(list(pairs), columns=["name", "value"])


def locks():
    """Per-lock statistics: name, acquisitions, contentions, wait_total_ns, wait_max_ns,
    hold_total_ns, hold_max_ns, wait_avg_ns, hold_avg_ns."""
    return _locks_frame(_C._lock_stats())


def reset_locks():
    _C._reset_lock_stats()


def _all_counters():
    """The C++ runtime's counters, then the Python layers' (fabric.*: the Fabric's attempts, hits, fallbacks
    and remote bytes, and each fallback reason as fabric.fallback: <reason>)."""
    from vibetensor.cuda import fabric

    s = fabric.stats()
    reasons = s.pop("fallback_reasons")
    return list(_C._counters()) + [(f"fabric.{k}", v) for k, v in s.items()] + \
        [(f"fabric.fallback: {r}", n) for r, n in sorted(reasons.items())]


def counters():
    """Event counters as a DataFrame (name, value)."""
    return _counters_frame(_all_counters())


def reset_counters():
    from vibetensor.cuda import fabric

    _C._reset_counters()
    fabric.reset_stats()


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Raw probe values at one moment (cheap to take; no pandas)."""

    time_ns: int
    locks: tuple
    counters: tuple


@dataclasses.dataclass(frozen=True)
class Delta:
    """What happened between two snapshots."""

    elapsed_ns: int
    locks: object     # DataFrame: the lock fields, sums as differences, maxima of the later snapshot
    counters: object  # DataFrame: name, value (difference)


def snapshot():
    return Snapshot(time.perf_counter_ns(), tuple(tuple(r[f] for f in _LOCK_FIELDS) for r in _C._lock_stats()),
                    tuple(_all_counters()))


def diff(before, after):
    """Per-lock and per-counter differences after - before (locks that appeared in between count
    from zero; a reset in between gives negative values)."""
    if not isinstance(before, Snapshot) or not isinstance(after, Snapshot):
        raise TypeError(f"diff(before, after) takes two probes.snapshot() results, got {type(before).__name__} and "
                        f"{type(after).__name__}")
    prev = {}
    for row in before.locks:
        prev.setdefault(row[0], []).append(row)
    rows = []
    for row in after.locks:
        d = dict(zip(_LOCK_FIELDS, row))
        earlier = prev.get(row[0])
        if earlier:  # locks may share a name (e.g. one per device); they pair up in order
            b = dict(zip(_LOCK_FIELDS, earlier.pop(0)))
            for f in _LOCK_SUMS:
                d[f] -= b[f]
        rows.append(d)
    counts_before = dict(before.counters)
    counters_ = [(name, value - counts_before.get(name, 0)) for name, value in after.counters]
    return Delta(after.time_ns - before.time_ns, _locks_frame(rows), _counters_frame(counters_))


from vibetensor.probes import cupti  # noqa: E402,F401
from vibetensor.probes.ranges import annotate  # noqa: E402
from vibetensor.probes.trace import Trace, trace  # noqa: E402
