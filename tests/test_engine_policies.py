"""The backward engine's policies observed through probes: the gate's lock statistics, thread
creation, routing, and two Python threads running backward concurrently."""
import threading

import numpy as np
import pytest

import vibetensor as vt
from _threads import run_in_threads

C = vt._C


def arr(t):
    return np.from_dlpack(t.detach())


def chain_graph(n=200, size=64):
    x = C._ops.full([size], 1.0)
    x.requires_grad = True
    y = x
    for _ in range(n):
        y = y * 1.001 + 0.0
    return x, y


pytestmark = pytest.mark.usefixtures("restore_policies")  # conftest.py


@pytest.mark.parametrize("workers", ["caller", "pool", "spawn"])
@pytest.mark.parametrize("routing", ["worker", "owner"])
@pytest.mark.parametrize("gate", ["per_graph", "none", "global"])
def test_every_engine_policy_gives_the_same_gradient(workers, routing, gate):
    with vt.policy.override(f"autograd.workers={workers},autograd.routing={routing},autograd.gate={gate}"):
        x, y = chain_graph(50, 8)
        C._backward([y], [C._ops.full([8], 1.0)], False)
        np.testing.assert_allclose(arr(x.grad), np.full(8, 1.001 ** 50), rtol=1e-5)


def lock_row(name):
    return next((r for r in C._lock_stats() if r["name"] == name), None)


def test_global_gate_is_one_lock_taken_per_backward():
    with vt.policy.override("autograd.gate=global,probes.locks=on"):
        C._reset_lock_stats()
        for _ in range(3):
            x, y = chain_graph(5, 4)
            C._backward([y], [C._ops.full([4], 1.0)], False)
        assert lock_row("autograd.gate.global")["acquisitions"] == 3
        g = lock_row("autograd.gate.per_graph")
        assert g is None or g["acquisitions"] == 0


def test_per_graph_gate_takes_a_lock_per_graph_and_not_the_global_one():
    with vt.policy.override("autograd.gate=per_graph,probes.locks=on"):
        C._reset_lock_stats()
        x, y = chain_graph(5, 4)
        C._backward([y], [C._ops.full([4], 1.0)], False)
        assert lock_row("autograd.gate.per_graph")["acquisitions"] == 1
        g = lock_row("autograd.gate.global")
        assert g is None or g["acquisitions"] == 0


def test_spawn_creates_a_thread_per_backward_and_caller_none():
    with vt.policy.override("probes.counters=on,autograd.workers=caller"):
        C._reset_counters()
        x, y = chain_graph(5, 4)
        C._backward([y], [C._ops.full([4], 1.0)], False)
        assert dict(C._counters())["threads_created"] == 0
        with vt.policy.override({"autograd.workers": "spawn"}):
            for _ in range(3):
                x, y = chain_graph(5, 4)
                C._backward([y], [C._ops.full([4], 1.0)], False)
            assert dict(C._counters())["threads_created"] == 3


def test_owner_routing_goes_through_the_owner_queue():
    with vt.policy.override("probes.locks=on,autograd.routing=owner"):
        C._reset_lock_stats()
        x, y = chain_graph(20, 4)
        C._backward([y], [C._ops.full([4], 1.0)], False)
        # every executed node routes its gradients through the owner thread's queue
        assert lock_row("autograd.owner_queue")["acquisitions"] >= 20


def run_threads(n_threads, gate, gil="released"):
    with vt.policy.override(f"autograd.gate={gate},autograd.gil={gil},probes.locks=on"):
        C._reset_lock_stats()
        results = [None] * n_threads
        barrier = threading.Barrier(n_threads)

        def work(i):
            x, y = chain_graph(1500, 256)
            barrier.wait()
            for _ in range(3):
                C._backward([y], [C._ops.full([256], 1.0)], True)
            results[i] = arr(x.grad).copy()

        run_in_threads(work, n_threads)
        return results


@pytest.mark.parametrize("gate", ["per_graph", "global", "none"])
def test_two_threads_run_independent_backward_passes(gate):
    results = run_threads(2, gate)
    for r in results:
        np.testing.assert_allclose(r, np.full(256, 3 * 1.001 ** 1500), rtol=1e-4)


def test_global_gate_serializes_concurrent_backward_calls():
    run_threads(4, "global")
    g = lock_row("autograd.gate.global")
    assert g["acquisitions"] == 12
    # with four threads hammering one process-wide gate, some acquisitions must wait
    assert g["contentions"] >= 1 and g["wait_total_ns"] > 0


def test_gil_held_policy_still_computes_and_records_gil_time():
    with vt.policy.override("autograd.gil=held,probes.counters=on"):
        C._reset_counters()
        x, y = chain_graph(20, 4)
        C._backward([y], [C._ops.full([4], 1.0)], False)
        assert dict(C._counters())["gil_held_ns"] > 0


def test_backward_twice_without_retain_graph_is_a_clear_error():
    x = C._ops.full([3], 2.0)
    x.requires_grad = True
    y = x * x
    C._backward([y], [C._ops.full([3], 1.0)], False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        C._backward([y], [C._ops.full([3], 1.0)], False)


def test_saved_tensor_modified_in_place_is_detected():
    x = C._ops.full([3], 2.0)
    x.requires_grad = True
    h = x * 1.0
    y = h * h
    C._ops.mul_(h, 2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        C._backward([y], [C._ops.full([3], 1.0)], False)


def test_dispatch_lookup_locked_map_counts_name_lookups():
    a = C._ops.full([1], 1.0)
    with vt.policy.override("probes.counters=on,dispatch.lookup=handle"):
        C._reset_counters()
        for _ in range(10):
            a + a
        assert dict(C._counters())["name_lookups"] == 0
        with vt.policy.override({"dispatch.lookup": "locked_map"}):
            for _ in range(10):
                a + a
            assert dict(C._counters())["name_lookups"] == 10


_FREED_ON_AN_ENGINE_THREAD = """
import numpy as np
import vibetensor as vt
vt.policy.apply_spec("autograd.gil=held,autograd.gate=global,autograd.workers={workers},autograd.routing={routing}")

w = vt.ones(4, 2, requires_grad=True)
x = vt.from_numpy(np.ones((3, 4), np.float32))  # DLPack: its deleter needs the GIL
loss = (x @ w).sum()
del x  # the graph holds the last reference: the engine thread frees it
loss.backward()
print("ok", float(w.grad.sum()))
"""


@pytest.mark.parametrize("workers,routing", [("spawn", "owner"), ("pool", "owner"), ("spawn", "worker")])
def test_memory_of_python_freed_on_an_engine_thread_does_not_deadlock(workers, routing, tmp_path):
    """Note [Threads that may not take the GIL]: under autograd.gil=held the caller keeps the GIL while
    the engine's threads run; a DLPack-imported tensor (vt.from_numpy) that the graph frees there once made
    its deleter wait for that GIL, and backward never returned. Under autograd.gate=global, as the vibe preset
    has it: the gate is waited for on the calling thread, which releases the GIL for the wait (Note [Gate and
    GIL]); an engine thread has no GIL to release (doing so aborted the process). In a child process with a
    time limit."""
    import subprocess
    import sys

    from vibetensor.experiments.child import child_env

    code = _FREED_ON_AN_ENGINE_THREAD.format(workers=workers, routing=routing)
    try:
        p = subprocess.run([sys.executable, "-c", code], env=child_env(), cwd=tmp_path, capture_output=True, text=True,
                           timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"backward under autograd.gil=held, workers={workers}, routing={routing} did not finish in 60 s")
    assert p.returncode == 0 and p.stdout.strip().splitlines()[-1] == "ok 24.0", p.stdout + p.stderr


@pytest.mark.parametrize("workers", ["pool", "spawn"])
def test_an_engine_thread_keeps_its_python_thread_state_between_calls(workers):
    """Python calls from one engine thread share one thread state (Note [Engine threads and Python thread
    states]): a threading.local set by one hook is seen by the next, as on torch's autograd threads."""
    local = threading.local()
    seen = []

    def hook(g):
        local.count = getattr(local, "count", 0) + 1
        seen.append((threading.get_ident(), local.count))

    with vt.policy.override({"autograd.gil": "released", "autograd.workers": workers}):
        x = vt.ones([3], requires_grad=True)
        y = x
        for _ in range(20):
            y = y * 2.0
            y.register_hook(hook)
        y.sum().backward()
    assert len(seen) == 20
    main = threading.get_ident()
    assert all(ident != main for ident, _ in seen)  # the hooks ran on an engine thread
    by_thread = {}
    for ident, count in seen:
        by_thread.setdefault(ident, []).append(count)
    for counts in by_thread.values():
        assert counts == list(range(1, len(counts) + 1))
