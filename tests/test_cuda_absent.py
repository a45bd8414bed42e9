"""Without a usable GPU (no CUDA build, no GPU, or no driver), vibetensor.cuda says so and every
request for a CUDA tensor raises a clear RuntimeError, never a crash. Runs everywhere; skipped
where a GPU is available."""
import re

import pytest

import vibetensor as vt
from vibetensor import _C

pytestmark = pytest.mark.skipif(vt.cuda.is_available(), reason="a CUDA GPU is available")

ops = _C._ops
CUDA = _C.device("cuda")
ABSENT = re.compile(r"built without CUDA|no CUDA GPU is available")


def test_is_available_false():
    assert vt.cuda.is_available() is False
    assert vt.cuda.device_count() == 0
    assert isinstance(vt.cuda.is_built(), bool)


@pytest.mark.parametrize("make", [
    lambda: ops.full([2], 1.0, device=CUDA),
    lambda: ops.empty([2, 3], device=CUDA),
    lambda: ops.empty([0], device=CUDA),
    lambda: ops.arange(0, 5, device=CUDA),
    lambda: ops.rand([3], device=CUDA),
    lambda: ops.randn([3], device=CUDA),
    lambda: ops.randint(0, 4, [3], device=CUDA),
    lambda: ops.full([2], 1.0, device="cuda:1"),
], ids=["full", "empty", "empty0", "arange", "rand", "randn", "randint", "cuda1"])
def test_cuda_factories_raise(make):
    with pytest.raises(RuntimeError, match=ABSENT):
        make()


def test_to_cuda_raises():
    t = ops.full([2, 2], 3.0)
    with pytest.raises(RuntimeError, match=ABSENT):
        ops.to_device(t, CUDA)
    with pytest.raises(RuntimeError, match=ABSENT):
        ops.to_device(t, CUDA, non_blocking=True)
    # to the device it is on: the same tensor, no error
    assert ops.to_device(t, _C.device("cpu"))._is_same(t)


def test_torch_like_api_raises_when_present():
    # vt.ones / Tensor.to come from the Python API layer; checked when it is there.
    if hasattr(vt, "ones"):
        with pytest.raises(RuntimeError, match=ABSENT):
            vt.ones(2, device="cuda")
    t = ops.full([2], 1.0)
    if hasattr(t, "to"):
        with pytest.raises(RuntimeError, match=ABSENT):
            t.to("cuda")
    if hasattr(t, "cuda"):
        with pytest.raises(RuntimeError, match=ABSENT):
            t.cuda()


@pytest.mark.parametrize("call", [
    vt.cuda.current_device,
    vt.cuda.synchronize,
    lambda: vt.cuda.set_device(0),
    lambda: vt.cuda.get_device_name(),
    lambda: vt.cuda.get_device_properties(0),
    lambda: vt.cuda.Stream(),
    lambda: vt.cuda.Event(),
    vt.cuda.current_stream,
    vt.cuda.memory_stats,
    vt.cuda.memory_allocated,
    vt.cuda.empty_cache,
    vt.cuda.memory_snapshot,
], ids=["current_device", "synchronize", "set_device", "get_device_name", "get_device_properties", "Stream", "Event",
        "current_stream", "memory_stats", "memory_allocated", "empty_cache", "memory_snapshot"])
def test_cuda_module_calls_raise(call):
    with pytest.raises(RuntimeError, match=ABSENT):
        call()


def test_sync_ledger_readable_or_clear_error():
    if vt.cuda.is_built():
        vt.cuda.reset_sync_ledger()
        assert vt.cuda.sync_ledger() == {}
    else:
        with pytest.raises(RuntimeError, match="built without CUDA"):
            vt.cuda.sync_ledger()


def test_item_on_cpu():
    assert _C._item(ops.full([], 2.5)) == 2.5
    assert _C._item(ops.full([1], 7)) == 7
    assert _C._item(ops.full([], True)) is True
    with pytest.raises(ValueError, match="cannot be converted"):
        _C._item(ops.full([2], 1.0))
