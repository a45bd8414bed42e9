"""CUDA devices, streams, events, copies, factories, views, the sync ledger and DLPack."""
import ctypes

import numpy as np
import pytest

import vibetensor as vt
from vibetensor import _C

from cuda_util import CPU, DT, cuda, from_numpy, item, ops, requires_gpu, to_cpu, to_numpy

pytestmark = requires_gpu

ALL_DTYPES = [DT.float32, DT.float64, DT.float16, DT.bfloat16, DT.int64, DT.int32, DT.bool]
NP_OF = {DT.float32: np.float32, DT.float64: np.float64, DT.float16: np.float16, DT.int64: np.int64,
         DT.int32: np.int32, DT.bool: np.bool_}


# ---- devices -------------------------------------------------------------------------------

def test_device_queries():
    assert vt.cuda.is_available()
    assert vt.cuda.is_built()
    n = vt.cuda.device_count()
    assert n >= 1
    assert 0 <= vt.cuda.current_device() < n
    assert isinstance(vt.cuda.get_device_name(), str) and vt.cuda.get_device_name(0)
    major, minor = vt.cuda.get_device_capability(0)
    assert major >= 7
    props = vt.cuda.get_device_properties(0)  # torch.cuda.get_device_properties's fields
    assert props.name == vt.cuda.get_device_name(0) and (props.major, props.minor) == (major, minor)
    assert props.total_memory > 2**30 and props.multi_processor_count > 0 and props.warp_size == 32
    assert repr(props).startswith(f"_CudaDeviceProperties(name='{props.name}', major={major}, minor={minor}, ")


def test_invalid_device_errors():
    n = vt.cuda.device_count()
    with pytest.raises(RuntimeError, match="not a valid CUDA device"):
        ops.full([2], 1.0, device=_C.device("cuda", n))
    with pytest.raises(RuntimeError, match="not a valid CUDA device"):
        vt.cuda.set_device(n)
    with pytest.raises(RuntimeError, match="not a valid CUDA device"):
        ops.to_device(ops.full([2], 1.0), _C.device("cuda", n))


def test_device_context_manager_restores():
    before = vt.cuda.current_device()
    with vt.cuda.device(0):
        assert vt.cuda.current_device() == 0
    assert vt.cuda.current_device() == before


# ---- streams and events -----------------------------------------------------------------------

def test_default_and_current_stream():
    d = vt.cuda.default_stream()
    assert d.cuda_stream == 0  # the legacy default stream (Note [Default stream])
    assert vt.cuda.current_stream() == d
    s = vt.cuda.Stream()
    assert s != d and s.cuda_stream != 0
    with s:
        assert vt.cuda.current_stream() == s
        with vt.cuda.stream(None):
            assert vt.cuda.current_stream() == s
        with vt.cuda.stream(d):
            assert vt.cuda.current_stream() == d
        assert vt.cuda.current_stream() == s
    assert vt.cuda.current_stream() == d


def test_stream_priority():
    hi = vt.cuda.Stream(priority=-1)
    lo = vt.cuda.Stream(priority=0)
    assert hi.priority <= lo.priority
    assert vt.cuda.Stream(priority=-100).priority <= hi.priority  # clamped to the device's range


def test_work_on_side_stream_and_wait_stream():
    x = ops.full([1 << 20], 3.0, device=cuda())
    s = vt.cuda.Stream()
    s.wait_stream(vt.cuda.current_stream())
    with s:
        y = ops.mul(x, 2.0)
        for _ in range(20):
            y = ops.add(y, 1.0)
    vt.cuda.current_stream().wait_stream(s)
    vt.cuda.record_stream(y, vt.cuda.current_stream())
    z = ops.add(y, 0.0)  # default stream, ordered after s's work
    assert np.all(to_numpy(z) == 26.0)


def test_stream_query_and_synchronize():
    s = vt.cuda.Stream()
    with s:
        x = ops.full([1 << 22], 1.0, device=cuda())
        for _ in range(10):
            x = ops.mul(x, 1.0)
    s.synchronize()
    assert s.query()


def test_event_record_wait_query_elapsed():
    e0 = vt.cuda.Event()
    assert e0.query()  # nothing recorded yet
    e0.synchronize()
    start, end = vt.cuda.Event(enable_timing=True), vt.cuda.Event(enable_timing=True)
    start.record()
    x = ops.full([1 << 22], 1.0, device=cuda())
    for _ in range(20):
        x = ops.add(x, 1.0)
    end.record()
    end.synchronize()
    assert end.query()
    ms = start.elapsed_time(end)
    assert ms >= 0.0
    # cross-stream ordering through an event
    s = vt.cuda.Stream()
    ev = vt.cuda.current_stream().record_event()
    s.wait_event(ev)
    with s:
        y = ops.add(x, 1.0)
    s.synchronize()
    assert np.all(to_numpy(y) == 22.0)


def test_event_timing_errors():
    a, b = vt.cuda.Event(), vt.cuda.Event()
    a.record()
    b.record()
    b.synchronize()
    with pytest.raises(RuntimeError, match="enable_timing"):
        a.elapsed_time(b)
    c, d = vt.cuda.Event(enable_timing=True), vt.cuda.Event(enable_timing=True)
    with pytest.raises(RuntimeError, match="recorded"):
        c.elapsed_time(d)


# ---- copies -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dt", [DT.float32, DT.float64, DT.float16, DT.int64, DT.int32, DT.bool])
def test_roundtrip_host_device(dt):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3, 5, 7)) * 10).astype(NP_OF[dt])
    t = from_numpy(a)
    assert t.device == cuda() and t.dtype == dt
    np.testing.assert_array_equal(to_numpy(t), a)


@pytest.mark.parametrize("non_blocking", [False, True])
def test_strided_and_converting_copies(non_blocking):
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    host = _C._from_dlpack_capsule(a.__dlpack__())
    host_t = ops.permute(host, [2, 0, 1])  # non-contiguous source
    dst = ops.empty([5, 3, 4], dtype=DT.float64, device=cuda())
    ops.copy_(dst, host_t, non_blocking=non_blocking)
    vt.cuda.synchronize()
    np.testing.assert_array_equal(to_numpy(dst), a.transpose(2, 0, 1).astype(np.float64))
    # device -> device, strided destination, with conversion
    dev = from_numpy(a)
    out = ops.empty([5, 4, 3], dtype=DT.float16, device=cuda())
    ops.copy_(ops.permute(out, [2, 1, 0]), dev)
    np.testing.assert_array_equal(to_numpy(out), a.transpose(2, 1, 0).astype(np.float16))
    # device -> host into a strided CPU destination
    hdst = ops.empty([4, 3, 5], dtype=DT.int64)
    ops.copy_(ops.permute(hdst, [1, 0, 2]), dev, non_blocking=non_blocking)
    vt.cuda.synchronize()
    np.testing.assert_array_equal(np.from_dlpack(hdst), a.transpose(1, 0, 2).astype(np.int64))


def test_broadcast_copy_and_scalar_source():
    dst = ops.empty([4, 3], device=cuda())
    ops.copy_(dst, from_numpy(np.array([1.0, 2.0, 3.0], dtype=np.float32)))
    np.testing.assert_array_equal(to_numpy(dst), np.tile([1, 2, 3], (4, 1)))
    ops.copy_(dst, ops.full([], 5.0))  # a 0-d CPU source
    assert np.all(to_numpy(dst) == 5.0)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        ops.copy_(dst, ops.full([5], 1.0, device=cuda()))


def test_overlapping_copy():
    a = from_numpy(np.arange(10, dtype=np.float32))
    ops.copy_(ops.slice(a, 0, 1, 10), ops.slice(a, 0, 0, 9))
    np.testing.assert_array_equal(to_numpy(a), np.array([0, 0, 1, 2, 3, 4, 5, 6, 7, 8], np.float32))


def test_non_blocking_h2d_from_pageable_and_pinned():
    a = np.arange(1 << 16, dtype=np.float32)
    host = ops.clone(_C._from_dlpack_capsule(a.__dlpack__()))
    vt.cuda.reset_sync_ledger()
    t = ops.to_device(host, cuda(), non_blocking=True)  # staged through pinned memory
    assert vt.cuda.sync_ledger().get("copy_h2d", 0) == 0
    pinned = vt.cuda.pin_memory(host)
    assert vt.cuda.is_pinned(pinned) and not vt.cuda.is_pinned(host)
    t2 = ops.to_device(pinned, cuda(), non_blocking=True)
    assert vt.cuda.sync_ledger().get("copy_h2d", 0) == 0
    vt.cuda.synchronize()
    np.testing.assert_array_equal(to_numpy(t), a)
    np.testing.assert_array_equal(to_numpy(t2), a)


def test_staging_buffer_reuse_is_stream_ordered():
    # Many non-blocking copies from pageable memory reuse staging blocks; each must land intact.
    outs = []
    for i in range(50):
        host = ops.full([1 << 14], float(i))
        outs.append(ops.to_device(host, cuda(), non_blocking=True))
    vt.cuda.synchronize()
    for i, t in enumerate(outs):
        assert np.all(to_numpy(t) == float(i))


def test_non_blocking_d2h_into_pinned():
    t = ops.full([1 << 16], 4.0, device=cuda())
    vt.cuda.reset_sync_ledger()
    h = ops.to_device(t, CPU, non_blocking=True)
    assert vt.cuda.is_pinned(h)
    assert vt.cuda.sync_ledger().get("copy_d2h", 0) == 0
    vt.cuda.current_stream().synchronize()
    assert np.all(np.from_dlpack(h) == 4.0)


@pytest.mark.skipif(vt.cuda.device_count() < 2, reason="needs two GPUs")
def test_peer_copy():
    a = np.arange(1000, dtype=np.float32)
    t0 = from_numpy(a, cuda(0))
    t1 = ops.to_device(t0, cuda(1))
    assert t1.device == cuda(1)
    np.testing.assert_array_equal(to_numpy(t1), a)
    d = ops.empty([1000], dtype=DT.float64, device=cuda(1))
    ops.copy_(d, t0)
    np.testing.assert_array_equal(to_numpy(d), a.astype(np.float64))


def raw_bytes(t):
    """The bytes of a tensor's elements (works for bfloat16, which numpy lacks)."""
    t = ops.clone(to_cpu(t))
    n = t.numel() * t.element_size()
    return bytes((ctypes.c_uint8 * n).from_address(t.data_ptr())) if n else b""


@pytest.mark.parametrize("src", ALL_DTYPES)
@pytest.mark.parametrize("dst", ALL_DTYPES)
def test_to_dtype_matches_cpu(src, dst):
    rng = np.random.default_rng(1)
    vals = np.concatenate([rng.standard_normal(50) * 50, [0.0, -0.0, 1.0, -1.0, 0.5, 2.5, 1e-3]])
    host = ops.to_dtype(_C._from_dlpack_capsule(vals.__dlpack__()), src)
    dev = ops.to_device(host, cuda())
    got = ops.to_dtype(dev, dst)
    assert got.dtype == dst and got.device == cuda()
    assert raw_bytes(got) == raw_bytes(ops.to_dtype(host, dst))
    # strided source
    got_t = ops.to_dtype(ops.slice(dev, 0, 1, None, 3), dst)
    assert raw_bytes(got_t) == raw_bytes(ops.to_dtype(ops.slice(host, 0, 1, None, 3), dst))


def test_clone_contiguous_and_strided():
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    t = from_numpy(a)
    c = ops.clone(ops.transpose(t, 0, 1))
    assert c.is_contiguous()
    np.testing.assert_array_equal(to_numpy(c), a.T)
    assert c.data_ptr() != t.data_ptr()


# ---- factories --------------------------------------------------------------------------------

@pytest.mark.parametrize("dt", ALL_DTYPES)
def test_full_fill_zero(dt):
    t = ops.full([3, 1000], 1, dtype=dt, device=cuda())
    assert item(ops.select(ops.select(t, 0, 2), 0, 999)) == 1
    ops.zero_(t)
    assert np.all(to_numpy(ops.to_dtype(t, DT.float32)) == 0)
    ops.fill_(ops.slice(t, 1, 0, 1000, 3), 1)  # strided fill
    got = to_numpy(ops.to_dtype(t, DT.float32))
    assert np.all(got[:, ::3] == 1) and np.all(got[:, 1::3] == 0)


def test_empty_and_zero_size():
    t = ops.empty([0, 5], device=cuda())
    assert t.numel() == 0 and t.device == cuda()
    assert to_numpy(t).shape == (0, 5)
    e = ops.empty([7], dtype=DT.int32, device=cuda())
    assert e.dtype == DT.int32


@pytest.mark.parametrize("args", [(0, 10, 1), (3, -7, -2), (0.5, 3.0, 0.25), (-1.0, 1.0, 0.1)])
def test_arange_matches_cpu(args):
    for dt in [None, DT.float32, DT.float64, DT.int64]:
        if dt in (DT.int64,) and any(isinstance(x, float) for x in args):
            continue
        kw = {} if dt is None else {"dtype": dt}
        got = to_cpu(ops.arange(*args, device=cuda(), **kw))
        want = ops.arange(*args, **kw)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(np.from_dlpack(got), np.from_dlpack(want))


@pytest.mark.parametrize("dt", [DT.float32, DT.float64, DT.float16])
def test_random_same_bits_as_cpu(dt):
    for name in ["rand", "randn"]:
        _C.manual_seed(42)
        cpu = getattr(ops, name)([1000], dtype=dt)
        _C.manual_seed(42)
        dev = getattr(ops, name)([1000], dtype=dt, device=cuda())
        np.testing.assert_array_equal(to_numpy(dev), np.from_dlpack(cpu))
    _C.manual_seed(5)
    cpu = ops.randint(-50, 1000, [1000])
    _C.manual_seed(5)
    dev = ops.randint(-50, 1000, [1000], device=cuda())
    np.testing.assert_array_equal(to_numpy(dev), np.from_dlpack(cpu))


def test_random_offsets_shared_between_devices():
    _C.manual_seed(3)
    a = ops.rand([10], dtype=DT.float64)
    b = ops.rand([10], dtype=DT.float64, device=cuda())
    _C.manual_seed(3)
    c = ops.rand([20], dtype=DT.float64)
    np.testing.assert_array_equal(np.concatenate([np.from_dlpack(a), to_numpy(b)]), np.from_dlpack(c))


# ---- views ------------------------------------------------------------------------------------

def test_views_on_cuda():
    a = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    t = from_numpy(a)
    v = ops.view(t, [6, 4])
    assert v.data_ptr() == t.data_ptr()
    np.testing.assert_array_equal(to_numpy(ops.permute(t, [2, 0, 1])), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(to_numpy(ops.slice(t, 2, 1, 4, 2)), a[:, :, 1:4:2])
    np.testing.assert_array_equal(to_numpy(ops.select(t, 1, 2)), a[:, 2])
    np.testing.assert_array_equal(to_numpy(ops.expand(ops.unsqueeze(ops.select(t, 0, 0), 0), [5, 3, 4])),
                                  np.broadcast_to(a[0], (5, 3, 4)))
    np.testing.assert_array_equal(to_numpy(ops.squeeze(ops.unsqueeze(t, 1), None)), a)
    np.testing.assert_array_equal(to_numpy(ops.as_strided(t, [3, 2], [1, 3], 1)),
                                  np.lib.stride_tricks.as_strided(a.ravel()[1:], (3, 2), (4, 12)))
    np.testing.assert_array_equal(to_numpy(ops.reshape(ops.transpose(t, 1, 2), [2, 12])),
                                  a.transpose(0, 2, 1).reshape(2, 12))
    np.testing.assert_array_equal(to_numpy(ops.contiguous(ops.transpose(t, 0, 2))), a.transpose(2, 1, 0))


# ---- sync ledger ------------------------------------------------------------------------------

def test_sync_ledger_counts_host_syncs():
    t = ops.full([1000], 1.0, device=cuda())
    vt.cuda.synchronize()
    vt.cuda.reset_sync_ledger()
    assert vt.cuda.sync_ledger() == {}
    to_cpu(t)                                        # blocking D2H
    ops.to_device(ops.full([10], 1.0), cuda())       # blocking H2D
    item(ops.select(t, 0, 3))                        # .item() on CUDA
    vt.cuda.synchronize()
    vt.cuda.current_stream().synchronize()
    e = vt.cuda.Event()
    e.record()
    e.synchronize()
    ledger = vt.cuda.sync_ledger()
    assert ledger["copy_d2h"] == 1
    assert ledger["copy_h2d"] == 1
    assert ledger["item"] == 1
    assert ledger["device_synchronize"] == 1
    assert ledger["stream_synchronize"] == 1
    assert ledger["event_synchronize"] == 1
    # device-side work alone never syncs
    vt.cuda.reset_sync_ledger()
    for _ in range(10):
        t = ops.add(ops.mul(t, 2.0), 1.0)
    assert vt.cuda.sync_ledger() == {}


def test_sync_ledger_feeds_probe_counter():
    with vt.policy.override({"probes.counters": "on"}):
        _C._reset_counters()
        t = ops.full([10], 1.0, device=cuda())
        to_cpu(t)
        item(ops.select(t, 0, 0))
        counters = dict(_C._counters())
        assert counters["host_syncs"] == 2
        assert counters["alloc_calls"] >= 1


# ---- DLPack -----------------------------------------------------------------------------------

def test_dlpack_device_and_torch_interop():
    t = ops.full([4], 2.0, device=cuda())
    assert tuple(t.__dlpack_device__()) == (2, 0)  # kDLCUDA
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    x = torch.from_dlpack(t)
    assert x.is_cuda and torch.all(x == 2.0)
    y = torch.arange(6, dtype=torch.float32, device="cuda")
    torch.cuda.synchronize()
    v = _C._from_dlpack_capsule(y.__dlpack__())
    assert v.device == cuda()
    np.testing.assert_array_equal(to_numpy(ops.mul(v, 2.0)), np.arange(6, dtype=np.float32) * 2)
