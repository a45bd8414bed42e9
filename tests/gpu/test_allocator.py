"""One allocator suite over every allocator: the CPU allocator and the CUDA strategies (policy
alloc.cuda: caching, async, direct, and the caching allocator's split/segments/lock policies).
Random alloc/free stress with content checks (no block is handed out twice) on every allocator;
on CUDA also no leaks, cross-stream reuse (record_stream), statistics, snapshots, empty_cache and
the out-of-memory error. Each allocator runs in a subprocess (a CUDA strategy is fixed at first
use); the CUDA ones skip without a GPU."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import vibetensor as vt
from vibetensor import _C

from cuda_util import DT, cuda, item, ops, requires_gpu, to_numpy

STRATEGIES = {
    "caching": {"alloc.cuda": "caching"},
    "caching_vibe": {"alloc.cuda": "caching", "alloc.split": "off", "alloc.segments": "per_request",
                     "alloc.lock": "global"},
    "caching_nosplit": {"alloc.cuda": "caching", "alloc.split": "off"},
    "async": {"alloc.cuda": "async"},
    "direct": {"alloc.cuda": "direct"},
}
# Every allocator under test: its device and the policies that pick it. The CPU allocator is one
# strategy without statistics (64-byte aligned blocks, core/storage.cpp).
ALLOCATORS = {"cpu": ("cpu", {}), **{name: ("cuda", pol) for name, pol in STRATEGIES.items()}}


def allocators(*names):
    """Test parameters over the named allocators (all when none are named); CUDA ones need a GPU."""
    return [pytest.param(n, id=n, marks=[] if ALLOCATORS[n][0] == "cpu" else [requires_gpu])
            for n in (names or ALLOCATORS)]


CHILD_PRELUDE = """
import json, sys, gc, random
import numpy as np
import vibetensor as vt
from vibetensor import _C
ops = _C._ops
# a child process: its policies die with it; the private binding is the one under test below
for k, v in json.loads(sys.argv[1]).items():
    _C._policy_set(k, v)
is_cuda = sys.argv[2] == "cuda"
dev = _C.device(sys.argv[2])
def to_numpy(t):
    return np.from_dlpack(ops.to_device(t, _C.device("cpu")))
result = {}
"""


def run_child(body, policies, device="cuda", timeout=600):
    # The child imports the same vibetensor as this process (installed or in-tree).
    root = os.path.dirname(os.path.dirname(os.path.abspath(vt.__file__)))
    code = (f"import sys; sys.path.insert(0, {root!r})\n" + CHILD_PRELUDE + textwrap.dedent(body)
            + "\nprint('RESULT ' + json.dumps(result))\n")
    env = dict(os.environ)
    p = subprocess.run([sys.executable, "-c", code, json.dumps(policies), device], capture_output=True, text=True,
                       timeout=timeout, env=env)
    assert p.returncode == 0, f"child failed ({p.returncode}):\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


STRESS = """
start = vt.cuda.memory_allocated() if is_cuda else 0
rng = random.Random(0)
sizes = [1, 7, 128, 1000, 4096, 65536, 300000, 3_000_000]
live = []
bad = 0
misaligned = 0
for i in range(1500):
    if live and rng.random() < 0.45:
        live.pop(rng.randrange(len(live)))
    else:
        n = rng.choice(sizes)
        v = float(i % 251)
        live.append((ops.full([n], v, dtype=_C.dtype.float32, device=dev), v))
        misaligned += int(live[-1][0].data_ptr() % 64 != 0)
    if i % 100 == 99:  # every live tensor still holds its own value: no block was handed out twice
        for t, v in live:
            a = to_numpy(t)
            bad += int(not (a == v).all())
result["bad"] = bad
result["misaligned"] = misaligned
"""

# The CUDA allocators' statistics, policy and cache after STRESS (the CPU allocator keeps none).
STRESS_CUDA_STATS = """
result["peak_live_stats"] = vt.cuda.memory_stats()
result["policy_fixed_error"] = ""
try:
    _C._policy_set("alloc.cuda", "direct" if vt.cuda.get_allocator_backend() != "direct" else "caching")
except RuntimeError as e:
    result["policy_fixed_error"] = str(e)
result["backend"] = vt.cuda.get_allocator_backend()
live.clear()
t = a = None  # the last loop variables would otherwise keep one tensor alive
gc.collect()
vt.cuda.synchronize()
result["start"] = start
result["end"] = vt.cuda.memory_allocated()
s = vt.cuda.memory_stats()
result["stats"] = s
vt.cuda.empty_cache()
result["reserved_after_empty"] = vt.cuda.memory_reserved()
result["snapshot_after_empty"] = vt.cuda.memory_snapshot()
"""


@pytest.mark.parametrize("name", allocators())
def test_stress_no_overlap_no_leak(name):
    device, pol = ALLOCATORS[name]
    r = run_child(STRESS + (STRESS_CUDA_STATS if device == "cuda" else ""), pol, device)
    assert r["bad"] == 0
    if device == "cpu":
        assert r["misaligned"] == 0  # the CPU allocator's 64-byte alignment (core/storage.cpp)
        return
    assert r["backend"] == pol["alloc.cuda"]
    assert "alloc.cuda" in r["policy_fixed_error"]  # fixed after the first allocation
    assert r["start"] == 0 and r["end"] == 0  # allocated returns to where it started
    s = r["stats"]
    assert s["active.all.current"] == 0
    assert s["requested_bytes.all.current"] == 0
    assert s["num_alloc_calls"] == s["num_free_calls"] > 0
    assert s["allocated_bytes.all.peak"] > 0
    assert s["num_cache_hits"] + s["num_cache_misses"] == s["num_alloc_calls"]
    if pol["alloc.cuda"] == "direct":
        assert s["num_cache_hits"] == 0
        assert s["num_device_alloc"] == s["num_alloc_calls"] == s["num_device_free"]
        assert s["reserved_bytes.all.current"] == 0
    if pol["alloc.cuda"] == "caching":
        assert s["num_cache_hits"] > 0  # freed blocks are reused
        assert s["num_device_alloc"] < s["num_alloc_calls"]
        assert r["reserved_after_empty"] == 0 and r["snapshot_after_empty"] == []
    if pol["alloc.cuda"] == "async":
        assert s["num_device_alloc"] == s["num_alloc_calls"]


SEGMENTS = """
ts = [ops.full([n], 1.0, device=dev) for n in (100, 1000, 200_000, 3_000_000)]
snap = vt.cuda.memory_snapshot()
result["segments"] = snap
result["ptrs"] = [t.data_ptr() for t in ts]
result["stats"] = vt.cuda.memory_stats()
a = ops.full([3_000_000], 1.0, device=dev)
ptr = a.data_ptr()
del a
b = ops.full([1000], 1.0, device=dev)   # small request after a large free
result["reuse_small_from_large"] = b.data_ptr() == ptr
"""


@pytest.mark.parametrize("name", allocators("caching", "caching_vibe"))
def test_segments_and_snapshot(name):
    r = run_child(SEGMENTS, STRATEGIES[name])
    segs = r["segments"]
    addresses = {b["address"]: b for s in segs for b in s["blocks"]}
    for p in r["ptrs"]:
        assert addresses[p]["allocated"] and addresses[p]["state"] == "active_allocated"
    for s in segs:
        assert sum(b["size"] for b in s["blocks"]) == s["total_size"]
        assert s["segment_type"] in ("small", "large")
        assert s["allocated_size"] == sum(b["size"] for b in s["blocks"] if b["allocated"])
        for b in s["blocks"]:
            assert b["size"] % 512 == 0
    if name == "caching":
        # small requests share one 2 MiB segment; large ones are split from 20 MiB ones
        small = [s for s in segs if s["segment_type"] == "small"]
        assert len(small) == 1 and small[0]["total_size"] == 2 << 20
        assert r["stats"]["num_device_alloc"] == len(segs)
        assert r["reuse_small_from_large"] is False  # pools are separate
    else:
        # per_request: one segment per rounded request, never split
        assert all(len(s["blocks"]) == 1 for s in segs)
        assert sorted(s["total_size"] for s in segs) == sorted(-(-n * 4 // 512) * 512 for n in (100, 1000, 200_000, 3_000_000))


SPLIT_OFF = """
a = ops.full([4_000_000], 1.0, device=dev)   # 16 MB: a large block
pa = a.data_ptr()
del a
b = ops.full([1_000_000], 1.0, device=dev)   # 4 MB: reuses the cached 16 MB block whole when split=off
result["same_ptr"] = b.data_ptr() == pa
result["allocated"] = vt.cuda.memory_allocated()
"""


@requires_gpu
def test_split_policy():
    on = run_child(SPLIT_OFF, {"alloc.cuda": "caching", "alloc.split": "on", "alloc.segments": "per_request"})
    off = run_child(SPLIT_OFF, {"alloc.cuda": "caching", "alloc.split": "off", "alloc.segments": "per_request"})
    assert off["same_ptr"] and off["allocated"] == 16_000_000  # the whole block counts as allocated
    assert on["same_ptr"] and on["allocated"] == 4_000_256     # split: only the request's rounded size


CROSS_STREAM = """
N = 1 << 24
s = vt.cuda.Stream()
ok = True
not_busy_reuse = 0
for trial in range(5):
    x = ops.full([N], 1.0, device=dev)
    xp = x.data_ptr()
    s.wait_stream(vt.cuda.current_stream())
    with s:
        y = ops.mul(x, 1.0)
        for _ in range(200):          # a long queue of work on s that reads x
            y = ops.add(ops.mul(y, 0.5), x)
    vt.cuda.record_stream(x, s)
    del x                             # freed while s still reads it
    busy = not s.query()
    z = ops.full([N], 7.0, device=dev)  # same size, default stream
    if busy and z.data_ptr() == xp:
        not_busy_reuse += 1
    vt.cuda.current_stream().wait_stream(s)
    vt.cuda.record_stream(y, vt.cuda.current_stream())
    a = to_numpy(y)
    ok = ok and bool(np.allclose(a, 2.0, rtol=1e-5))  # y -> 2 when x stays 1
    del y, z
result["ok"] = ok
result["reused_while_busy"] = not_busy_reuse
s.synchronize()
vt.cuda.synchronize()
import gc; gc.collect()
result["end"] = vt.cuda.memory_allocated()
"""


@pytest.mark.parametrize("name", allocators("caching", "caching_vibe", "async", "direct"))
def test_cross_stream_reuse_respects_record_stream(name):
    r = run_child(CROSS_STREAM, STRATEGIES[name])
    assert r["ok"]
    if name.startswith("caching"):
        # the block waits for s's events; (async may hand it out again in stream order, which is safe)
        assert r["reused_while_busy"] == 0
    assert r["end"] == 0


STATS = """
s0 = vt.cuda.memory_stats()
a = ops.full([1000], 1.0, device=dev)   # 4000 B -> 4096 B block
s1 = vt.cuda.memory_stats()
del a
b = ops.full([1000], 2.0, device=dev)   # same size: a cache hit
s2 = vt.cuda.memory_stats()
c = ops.full([10_000_000], 1.0, device=dev)
peak = vt.cuda.max_memory_allocated()
del c
vt.cuda.reset_peak_memory_stats()
result.update(s0=s0, s1=s1, s2=s2, peak=peak, peak_after_reset=vt.cuda.max_memory_allocated(),
              allocated=vt.cuda.memory_allocated(), reserved=vt.cuda.memory_reserved())
vt.cuda.empty_cache()
result["reserved_after_empty"] = vt.cuda.memory_reserved()
result["s3"] = vt.cuda.memory_stats()
"""


@requires_gpu
def test_memory_stats_fields_caching():
    r = run_child(STATS, STRATEGIES["caching"])
    s0, s1, s2 = r["s0"], r["s1"], r["s2"]
    for key in ["allocated_bytes.all.current", "reserved_bytes.all.current", "allocated_bytes.all.peak",
                "requested_bytes.all.current", "num_device_alloc", "num_device_free", "num_alloc_retries",
                "num_cache_hits", "num_cache_misses", "segment.all.current", "active.all.current"]:
        assert key in s0, key
    assert s0["allocated_bytes.all.current"] == 0 and s0["reserved_bytes.all.current"] == 0
    assert s1["allocated_bytes.all.current"] == 4096
    assert s1["requested_bytes.all.current"] == 4000
    assert s1["reserved_bytes.all.current"] == 2 << 20  # one small segment
    assert s1["num_device_alloc"] == 1 and s1["num_cache_misses"] == 1
    assert s2["num_cache_hits"] == 1 and s2["num_device_alloc"] == 1
    assert r["peak"] == 4096 + 40_000_000
    assert r["peak_after_reset"] == r["allocated"] == 4096
    assert r["reserved"] > r["allocated"]
    assert r["reserved_after_empty"] == 2 << 20  # the small segment still holds b
    assert r["s3"]["num_device_free"] >= 1


OOM = """
ok = ops.full([1000], 1.0, device=dev)
before = vt.cuda.memory_stats()
msg = ""
try:
    ops.empty([1 << 38], dtype=_C.dtype.float32, device=dev)   # 1 TiB
except RuntimeError as e:
    msg = str(e)
result["msg"] = msg
result["stats"] = vt.cuda.memory_stats()
x = ops.add(ok, 1.0)   # still usable after the failure
result["after"] = float(to_numpy(x)[0])
"""


@pytest.mark.parametrize("name", allocators("caching", "async", "direct"))
def test_oom_error_message(name):
    r = run_child(OOM, STRATEGIES[name])
    msg = r["msg"]
    assert "CUDA out of memory" in msg
    assert "tried to allocate" in msg and str(4 << 38) in msg
    assert "reserved" in msg and "allocated" in msg
    assert name in msg
    assert r["stats"]["num_ooms"] == 1
    if name in ("caching", "async"):
        assert r["stats"]["num_alloc_retries"] == 1
    assert r["after"] == 2.0


LOCKS = """
import threading
_C._policy_set("probes.locks", "on")
_C._reset_lock_stats()
def work():
    for i in range(200):
        t = ops.full([1000 + i], 1.0, device=dev)
        del t
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
result["locks"] = {s["name"]: s["acquisitions"] for s in _C._lock_stats()}
"""


def _lock_acquisitions(r, name):
    return r["locks"].get(name, 0)


@requires_gpu
def test_lock_policy_global_takes_global_mutexes():
    g = run_child(LOCKS, {"alloc.cuda": "caching", "alloc.lock": "global"})
    d = run_child(LOCKS, {"alloc.cuda": "caching", "alloc.lock": "per_device"})
    assert _lock_acquisitions(g, "alloc.global") >= 1600    # 800 allocs + 800 frees
    assert _lock_acquisitions(g, "alloc.metadata") >= 1600
    assert _lock_acquisitions(d, "alloc.global") == 0
    assert _lock_acquisitions(d, "alloc.device") >= 1600


@requires_gpu
def test_in_process_no_leak_across_ops():
    vt.cuda.synchronize()
    start = vt.cuda.memory_allocated()
    x = ops.rand([1000, 100], device=cuda())
    for _ in range(10):
        y = ops.where(ops.gt(x, 0.5), ops.mul(x, 2.0), ops.neg(x))
        x = ops.clone(ops.transpose(ops.view(y, [100, 1000]), 0, 1))
    del x, y
    assert vt.cuda.memory_allocated() == start


@requires_gpu
def test_pinned_memory_stats():
    h = vt.cuda.pin_memory(ops.full([1000], 1.0))
    st = _C._cuda.pinned_memory_stats()
    assert st["allocated_bytes"] >= 4000
    del h
    assert _C._cuda.pinned_memory_stats()["allocated_bytes"] == st["allocated_bytes"] - 4096
