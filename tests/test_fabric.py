"""Fabric (Note [Fabric]) and the device topology (Note [Device topology]) as far as the CPU goes: the decision of
every fabric.mode for every kind of device pair (a pure function of the devices, the mode and what the topology
says, here a topology given by the test), each decision's data path run for real on CPU tensors against torch,
the statistics each records, and the topology's empty frame without a GPU. tests/gpu/test_fabric_gpu.py runs the
rest on one and on two GPUs."""
import collections

import numpy as np
import pytest
import torch

import vibetensor as vt
from vibetensor.cuda import device_topology, fabric

pytestmark = pytest.mark.usefixtures("restore_policies")  # conftest.py

class Dev(collections.namedtuple("Dev", "type index")):
    """A device as decide() reads it (no GPU needed to name cuda:2)."""

    def __str__(self):
        return self.type if self.type == "cpu" else f"{self.type}:{self.index}"


CPU, CUDA0, CUDA1, CUDA2 = Dev("cpu", None), Dev("cuda", 0), Dev("cuda", 1), Dev("cuda", 2)
NO_PEER = "no P2P access from cuda:0 to cuda:2 (cuDeviceCanAccessPeer = 0)"


def given_topology(reader, owner):
    """cuda:0 reads cuda:1 over P2P; cuda:0 cannot read cuda:2."""
    return {(0, 1): (True, None), (0, 2): (False, NO_PEER)}[(reader, owner)]


@pytest.fixture(autouse=True)
def fresh_stats():
    fabric.reset_stats()
    yield
    fabric.reset_stats()


@pytest.mark.parametrize("mode, remote, path, would, reason", [
    ("off", CUDA0, "local", "local", None),
    ("best_effort", CUDA0, "local", "local", None),
    ("off", CUDA1, "error", "error", None),
    ("best_effort", CUDA1, "p2p", "p2p", None),
    ("best_effort", CUDA2, "copy", "copy", NO_PEER),
    ("best_effort", CPU, "copy", "copy", "cpu -> cuda:0: peer access joins CUDA devices only"),
    ("dry_run", CUDA1, "copy", "p2p", "fabric.mode=dry_run (best_effort would read over P2P)"),
    ("dry_run", CUDA2, "copy", "copy", f"fabric.mode=dry_run ({NO_PEER})"),
])
def test_each_mode_decides_by_the_topology(mode, remote, path, would, reason):
    d = fabric.decide(mode, CUDA0, remote, given_topology)
    assert (d.path, d.would, d.reason) == (path, would, reason)


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="fabric: mode 'fast' is not one of 'off', 'best_effort', 'dry_run'"):
        fabric.decide("fast", CUDA0, CUDA1, given_topology)


OPS = [("add", lambda x, y: x + 2 * y, {"alpha": 2}), ("sub", lambda x, y: x - y, {}), ("mul", torch.mul, {}),
       ("div", torch.div, {})]


@pytest.mark.parametrize("name, reference, kwargs", OPS, ids=[o[0] for o in OPS])
def test_the_copy_path_runs_the_op_and_records_the_fallback(name, reference, kwargs):
    """A decision to copy (as best_effort makes for a pair without P2P) runs the op on the output's device after
    copying the remote operand there: real CPU tensors, broadcast as the op broadcasts, against torch."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.uniform(0.5, 2.0, (4,)).astype(np.float32)
    fn = getattr(fabric, name)
    decision = fabric.Decision(CPU, CUDA2, "copy", "copy", NO_PEER)
    got = fabric.execute(name, lambda x, y: fn(x, y, **kwargs), vt.from_numpy(a), vt.from_numpy(b), decision)
    np.testing.assert_allclose(got.numpy(), reference(torch.from_numpy(a), torch.from_numpy(b)).numpy(), rtol=1e-6)
    assert fabric.stats() == {"attempts": 1, "hits": 0, "fallbacks": 1, "dry_run_would_hit": 0, "remote_bytes": 16,
                              "fallback_reasons": {NO_PEER: 1}}


def test_the_statistics_are_probe_counters_seen_in_a_snapshot_diff():
    import vibetensor.probes as probes

    before = probes.snapshot()
    decision = fabric.Decision(CPU, CUDA2, "copy", "copy", NO_PEER)
    fabric.execute("mul", fabric.mul, vt.ones(2, 2), vt.ones(2), decision)
    d = probes.diff(before, probes.snapshot()).counters.set_index("name")["value"]
    assert (d["fabric.attempts"], d["fabric.fallbacks"], d["fabric.hits"], d["fabric.remote_bytes"]) == (1, 1, 0, 8)
    assert d[f"fabric.fallback: {NO_PEER}"] == 1
    probes.reset_counters()
    assert fabric.stats()["attempts"] == 0


def test_the_off_decision_raises_naming_both_devices():
    decision = fabric.decide("off", CUDA0, CUDA1, given_topology)
    with pytest.raises(RuntimeError, match=r"fabric.mul: expected all tensors to be on the same device, but found "
                                           r"cuda:0 and cuda:1 \(fabric.mode=off"):
        fabric.execute("mul", vt.mul, vt.ones(2), vt.ones(2), decision)
    assert fabric.stats()["attempts"] == 0


def test_a_remote_operand_that_needs_a_gradient_takes_the_differentiable_copy():
    """A P2P decision for an operand that requires grad becomes a copy (the view is no part of the graph): the
    gradients reach both operands, as torch's."""
    a = vt.from_numpy(np.arange(4, dtype=np.float32))
    b = vt.from_numpy(np.full(4, 3.0, np.float32))
    b.requires_grad = True
    a.requires_grad = True
    out = fabric.execute("mul", vt.mul, a, b, fabric.decide("best_effort", CPU, CPU, given_topology)._replace(
        remote=CUDA1, path="p2p", would="p2p"))
    out.sum().backward()
    ta, tb = torch.arange(4.0, requires_grad=True), torch.full((4,), 3.0, requires_grad=True)
    (ta * tb).sum().backward()
    assert np.array_equal(a.grad.numpy(), ta.grad.numpy()) and np.array_equal(b.grad.numpy(), tb.grad.numpy())
    s = fabric.stats()
    assert s["hits"] == 0 and s["fallback_reasons"] == {fabric._NEEDS_GRAD: 1}


@pytest.mark.parametrize("mode", ["off", "best_effort", "dry_run"])
def test_the_policy_decides_and_the_statistics_count_only_cross_device_ops(mode):
    """fabric.mode as set through the policy: ops on one device are the ops themselves (nothing counted);
    the policy's decision for a cross-device pair, run on CPU tensors, is counted as documented."""
    with vt.policy.override({"fabric.mode": mode}):
        x, y = vt.ones(2, 3), vt.full((3,), 2.0)
        assert np.array_equal(vt.cuda.fabric.add(x, y).numpy(), np.full((2, 3), 3.0, np.float32))
        assert fabric.stats()["attempts"] == 0
        decision = fabric.decide(vt.policy.get("fabric.mode"), CPU, CUDA1, given_topology)
        if mode == "off":
            with pytest.raises(RuntimeError, match="found cpu and cuda:1"):
                fabric.execute("add", vt.add, x, y, decision)
            assert fabric.stats()["attempts"] == 0
            return
        fabric.execute("add", vt.add, x, y, decision)
    s = fabric.stats()
    assert (s["attempts"], s["fallbacks"], s["remote_bytes"]) == (1, 1, 12)
    assert s["fallback_reasons"] == {decision.reason: 1}


@pytest.mark.skipif(vt.cuda.is_available(), reason="the frame without a GPU")
def test_the_topology_without_a_gpu_is_an_empty_frame_with_its_columns():
    frame = vt.cuda.topology()
    assert frame.empty and list(frame.columns) == device_topology.COLUMNS
    assert frame.attrs["reason"] in ("vibetensor was built without CUDA", "no CUDA GPU is visible")
