"""Which NVTX ranges each probes.nvtx level pushes (Note [NVTX ranges] in csrc/probes/nvtx.cpp),
read through the range log (Note [NVTX range log]): no NVTX tool is attached in tests."""
import pytest

import vibetensor as vt
from vibetensor import _C
from vibetensor.experiments import runner
from vibetensor.experiments.workloads import registry

pytestmark = [pytest.mark.usefixtures("restore_policies"),  # conftest.py
              pytest.mark.skipif(not _C._nvtx_compiled(), reason="NVTX3 headers were not found at build time")]

LEVELS = ("off", "coarse", "fine")


def pushed(fn):
    """{level: names of the ranges pushed while fn() ran under probes.nvtx=level}."""
    out = {}
    for level in LEVELS:
        with vt.policy.override(f"probes.nvtx={level}"):
            _C._nvtx_log_start()
            try:
                fn()
            finally:
                out[level] = _C._nvtx_log_stop()
    return out


def test_cpu_allocation_and_free_are_fine_ranges():
    def allocate():
        t = vt.empty([1000])
        del t

    names = pushed(allocate)
    assert names["off"] == []
    assert "cpu_alloc" not in names["coarse"] and "cpu_free" not in names["coarse"]
    assert names["fine"].count("cpu_alloc") >= 1 and names["fine"].count("cpu_free") >= 1


def test_op_dispatch_is_a_fine_range_named_by_the_op():
    a, b = vt.ones([8]), vt.ones([8])
    names = pushed(lambda: a + b)
    assert names["off"] == [] and names["coarse"] == []
    assert any("add" in n for n in names["fine"]), names["fine"]


def test_backward_is_coarse_and_its_nodes_fine():
    def backward():
        x = vt.ones([4], requires_grad=True)
        (x * 1.5).exp().sum().backward()

    names = pushed(backward)
    assert names["off"] == []
    assert names["coarse"] == ["backward"]  # the engine's range; no op, node or allocation
    fine = names["fine"]
    assert "backward" in fine
    nodes = [n for n in fine[fine.index("backward") + 1:] if "Backward" in n]
    assert len(nodes) >= 3, fine  # sum, exp and mul nodes, each a range


@pytest.mark.skipif(not vt.cuda.is_available(), reason="host syncs and cudaMalloc need a GPU")
def test_host_syncs_and_segment_growth_are_coarse_ranges():
    def sync():
        x = vt.ones([1 << 22], device="cuda")  # 16 MiB: a new caching segment unless one is free
        x.sum().item()
        vt.cuda.synchronize()

    before = vt.cuda.sync_ledger()
    names = pushed(sync)
    after = vt.cuda.sync_ledger()
    sites = {k for k, v in after.items() if v != before.get(k, 0)}
    assert sites and names["off"] == []
    assert sites <= set(names["coarse"]), (sites, names["coarse"])  # every ledger site is a range
    assert "cuda_alloc" not in names["coarse"] and "cuda_alloc" in names["fine"]


def test_runner_marks_step_forward_backward_optimizer():
    wl = registry.build("seq_reverse", vt, "cpu", {"batch": 4, "dim": 32, "heads": 2, "layers": 1})
    names = pushed(lambda: runner._one_step(wl, None))
    assert names["off"] == []
    coarse = names["coarse"]
    assert coarse[0] == "step", coarse
    parts = [n for n in coarse if n in ("forward", "backward", "optimizer")]
    # The workload's backward range holds the engine's, also named "backward".
    assert parts == ["forward", "backward", "backward", "optimizer"], coarse
    assert len(names["fine"]) > len(coarse) + 10  # plus every op, node and allocation
