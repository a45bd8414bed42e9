"""One process, one thread per rank (backend "threads", Note [Thread ranks]): every collective against numpy,
both all-reduce algorithms (comm.allreduce, Note [Ring all-reduce]), DistributedDataParallel against torch on
the whole batch, autograd.gate=global serializing the ranks' backward passes, and each way a thread job can
go wrong: an error naming the rank, never a hang."""
import importlib.util
import os
import re
import threading
import time

import numpy as np
import pytest
import torch

import vibetensor as vt
import vibetensor.distributed as dist
from vibetensor import nn
from vibetensor.distributed import ring

pytestmark = pytest.mark.usefixtures("restore_policies")  # conftest.py


def _dist_ranks():
    path = os.path.join(os.path.dirname(__file__), "scripts", "dist_ranks.py")
    spec = importlib.util.spec_from_file_location("dist_ranks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("algorithm", ["nccl", "ring"])
def test_every_collective_over_three_thread_ranks_matches_numpy(algorithm):
    """The store backend's test script (tests/scripts/dist_ranks.py), run by three thread ranks of this process."""
    collectives = _dist_ranks().collectives

    def rank_fn(rank):
        dist.init_process_group("threads")
        assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (rank, 3, "threads")
        collectives(rank, 3)
        dist.destroy_process_group()
        return rank

    with vt.policy.override({"comm.allreduce": algorithm}):
        assert dist.spawn_threads(rank_fn, 3, devices=["cpu"] * 3, timeout=30) == [0, 1, 2]
    assert not dist.is_initialized()  # the ranks' groups were their threads' own


@pytest.mark.parametrize("shape, transpose", [((7,), False), ((2,), False), ((4, 6), True), ((0,), False)],
                         ids=["uneven_chunks", "fewer_elements_than_ranks", "non_contiguous", "empty"])
def test_the_ring_sends_each_chunk_to_the_next_rank_only(shape, transpose):
    """comm.allreduce=ring over 3 thread ranks: 2 (N-1) transfers per rank, each to the next rank, 2 (N-1)/N of
    the tensor's bytes sent per rank; the result equals torch's sum on every rank (same bits on all)."""
    rng = np.random.default_rng(3)
    inputs = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    expected = torch.stack([torch.from_numpy(a) for a in inputs]).sum(0)
    seen = []
    world_send = dist.threads._ThreadWorld.send

    def recording_send(self, key, tensor):
        seen.append((int(threading.current_thread().name.rsplit("-", 1)[1]), key[2]))  # (sender, receiver)
        world_send(self, key, tensor)

    def rank_fn(rank):
        dist.init_process_group("threads")
        t = vt.from_numpy(inputs[rank].T.copy()).t() if transpose else vt.from_numpy(inputs[rank].copy())
        dist.all_reduce(t)
        dist.destroy_process_group()
        return t.numpy()

    ring.reset_stats()
    dist.threads._ThreadWorld.send = recording_send
    try:
        with vt.policy.override({"comm.allreduce": "ring"}):
            results = dist.spawn_threads(rank_fn, 3, devices=["cpu"] * 3, timeout=30)
    finally:
        dist.threads._ThreadWorld.send = world_send
    for got in results:
        np.testing.assert_allclose(got, expected.numpy(), rtol=1e-6, atol=1e-6)
        assert np.array_equal(got, results[0])
    stats = ring.stats()
    assert stats["all_reduces"] == 3 and stats["shifts"] == 3 * 2 * 2
    n = int(np.prod(shape))
    assert stats["bytes_sent"] == 2 * (3 - 1) * n * 4  # each element crosses N-1 links per phase
    assert len(seen) == 12 and all(receiver == (sender + 1) % 3 for sender, receiver in seen), seen


def test_the_group_collective_makes_no_ring_transfers():
    ring.reset_stats()

    def rank_fn(rank):
        dist.init_process_group("threads")
        t = vt.full((5,), float(rank))
        dist.all_reduce(t)
        dist.destroy_process_group()
        return t.numpy()

    with vt.policy.override({"comm.allreduce": "nccl"}):
        assert all(np.array_equal(r, np.full(5, 1.0, np.float32)) for r in dist.spawn_threads(rank_fn, 2, ["cpu"] * 2))
    assert ring.stats()["shifts"] == 0


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(5, 7)
        self.b = nn.Linear(7, 3)

    def forward(self, x):
        return self.b(vt.tanh(self.a(x)))


@pytest.mark.parametrize("policy", ["comm.overlap=bucketed", "comm.overlap=after_backward",
                                    "comm.allreduce=ring", "preset=vibe"])
def test_ddp_over_thread_ranks_matches_torch_on_the_whole_batch(policy):
    """Two thread ranks, each on half of every batch, with buckets of 200 bytes: after three SGD steps every
    rank's parameters equal torch's training on the whole batch (under the vibe preset: the global gate, the
    GIL held through backward and the ring, all shared by the two ranks)."""
    rng = np.random.default_rng(7)
    batches = [rng.standard_normal((8, 5)).astype(np.float32) for _ in range(3)]
    vt.manual_seed(1)
    start = Net()
    reference = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    with torch.no_grad():
        for q, p in zip(reference.parameters(), start.parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy()))
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1)
    for x in batches:
        (reference(torch.from_numpy(x)) ** 2).mean().backward()
        ref_opt.step()
        ref_opt.zero_grad()

    def rank_fn(rank):
        dist.init_process_group("threads")
        vt.manual_seed(100 + rank)
        model = Net()
        if rank == 0:
            model.load_state_dict(start.state_dict())  # DDP starts every rank from rank 0's parameters
        ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0002)
        opt = vt.optim.SGD(ddp.parameters(), lr=0.1)
        for x in batches:
            (ddp(vt.from_numpy(x[4 * rank:4 * rank + 4])) ** 2).mean().backward()
            opt.step()
            opt.zero_grad()
        buckets = len(ddp._reducer.buckets)
        dist.destroy_process_group()
        return buckets, [p.detach().numpy() for p in model.parameters()]

    with vt.policy.override(policy):
        results = dist.spawn_threads(rank_fn, 2, devices=["cpu", "cpu"], timeout=60)
    for buckets, params in results:
        assert buckets >= 2
        for p, q in zip(params, reference.parameters()):
            np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-5, atol=2e-6)
    assert all(np.array_equal(a, b) for a, b in zip(results[0][1], results[1][1]))


class _MeetInBackward(vt.autograd.Function):
    """Its backward waits (at most WAIT seconds) until the other rank's backward is running too, and records how
    many backward passes were ever inside at once."""
    cond = threading.Condition()
    inside = most = finished = 0
    WAIT = 2.0

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        cls = _MeetInBackward
        with cls.cond:
            cls.inside += 1
            cls.most = max(cls.most, cls.inside)
            cls.cond.notify_all()
            cls.cond.wait_for(lambda: cls.most == 2 or cls.finished > 0, cls.WAIT)
            cls.inside -= 1
            cls.finished += 1
            cls.cond.notify_all()
        return grad


def _gate_stats(name):
    rows = [r for r in vt._C._lock_stats() if r["name"] == name]
    return {k: sum(r[k] for r in rows) for k in ("acquisitions", "contentions", "wait_total_ns")}


@pytest.mark.parametrize("gate", ["global", "per_graph"])
def test_the_global_gate_serializes_backward_across_thread_ranks(gate):
    """Two thread ranks call backward together (after a barrier). Under autograd.gate=global the second waits
    on the process-wide gate while the first runs (the gate's lock statistics count the contention and its
    wait; the backward passes never overlap); under the tuned per_graph both run at once and the global gate
    is never taken."""
    cls = _MeetInBackward
    cls.inside = cls.most = cls.finished = 0

    def rank_fn(rank):
        dist.init_process_group("threads")
        x = vt.ones(4, requires_grad=True)
        loss = _MeetInBackward.apply(x).sum()
        dist.barrier()
        loss.backward()
        dist.destroy_process_group()
        return x.grad.numpy()

    spec = f"probes.locks=on,autograd.gil=released,autograd.workers=caller,autograd.gate={gate}"
    with vt.policy.override(spec):
        vt._C._reset_lock_stats()
        grads = dist.spawn_threads(rank_fn, 2, devices=["cpu", "cpu"], timeout=30)
        stats = _gate_stats("autograd.gate.global")
        per_graph = _gate_stats("autograd.gate.per_graph")
    assert all(np.array_equal(g, np.ones(4, np.float32)) for g in grads)
    if gate == "global":
        assert cls.most == 1, "two backward passes ran at once under the global gate"
        assert stats["acquisitions"] == 2 and stats["contentions"] >= 1 and stats["wait_total_ns"] > 0, stats
    else:
        assert cls.most == 2, "the per-graph gate serialized the ranks' backward passes"
        assert stats["acquisitions"] == 0 and per_graph["acquisitions"] == 2 and per_graph["contentions"] == 0


def test_a_rank_that_raises_stops_the_others_naming_it():
    """Rank 1 raises while rank 0 waits in an all_reduce with a 60 s timeout: rank 0 stops at once and
    spawn_threads raises naming rank 1 and its error."""
    def rank_fn(rank):
        dist.init_process_group("threads")
        if rank == 1:
            raise ValueError("bad batch")
        dist.all_reduce(vt.zeros(3))

    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"spawn_threads: rank 1 \(on cpu\) raised ValueError: bad batch") as info:
        dist.spawn_threads(rank_fn, 2, devices=["cpu", "cpu"], timeout=60)
    assert time.monotonic() - start < 30
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize("mode, message", [
    ("hang", r"all_reduce \(collective #1 of the thread group\): rank 0 waited 0.5 s for rank\(s\) \[1\], which did "
             "not reach it"),
    ("returned", r"all_reduce \(collective #1 of the thread group\): rank 0 waits for rank\(s\) \[1\], which "
                 "returned from their function without reaching it"),
    ("mismatch", r"all_reduce: the ranks' tensors differ \(rank: \(shape, dtype\)\): \{0: \(\(3, 2\), 'float32'\), "
                 r"1: \(\(2, 3\), 'float32'\)\}"),
    ("other_collective", r"rank \d called (ring_)?(all_reduce|barrier) where rank \d called (barrier|(ring_)?all_reduce)"),
])
@pytest.mark.parametrize("algorithm", ["nccl", "ring"])
def test_a_thread_job_that_goes_wrong_fails_naming_the_rank(mode, message, algorithm):
    """hang: rank 1 is stuck (on an event rank 0 sets once its collective has timed out after the group's 0.5 s)."""
    stuck = threading.Event()

    def rank_fn(rank):
        dist.init_process_group("threads", timeout=0.5)
        if rank == 1 and mode in ("hang", "returned"):
            stuck.wait(30 if mode == "hang" else 0)
            return
        try:
            if mode == "other_collective" and rank == 1:
                dist.barrier()
            else:
                dist.all_reduce(vt.zeros(2, 3) if (mode == "mismatch" and rank == 1) else vt.zeros(3, 2))
        finally:
            stuck.set()

    with vt.policy.override({"comm.allreduce": algorithm}):
        with pytest.raises(RuntimeError, match=message):
            dist.spawn_threads(rank_fn, 2, devices=["cpu", "cpu"])


def test_the_thread_backend_refuses_what_it_cannot_do():
    with pytest.raises(RuntimeError, match="backend 'threads' is for the ranks of vibetensor.distributed.spawn_threads"):
        dist.init_process_group("threads")
    with pytest.raises(ValueError, match=r"expected one device per rank \(2\), got 1"):
        dist.spawn_threads(lambda r: r, 2, devices=["cpu"])

    def wrong_size(rank):
        dist.init_process_group("threads", world_size=3)

    with pytest.raises(RuntimeError, match="world_size=3 does not match this thread rank's world_size 2"):
        dist.spawn_threads(wrong_size, 2, devices=["cpu", "cpu"])
    assert dist.spawn_threads(lambda r: r * 10, 1, devices=["cpu"]) == [0]


def _thread_errors(fn, size=2):
    """Runs fn(rank) on thread ranks; the error message spawn_threads raises, or None."""
    def rank_fn(rank):
        dist.init_process_group("threads", timeout=10)
        fn(rank)

    try:
        dist.spawn_threads(rank_fn, size, devices=["cpu"] * size)
    except RuntimeError as e:
        return str(e)
    return None


@pytest.mark.parametrize("call", ["broadcast", "reduce", "gather", "scatter", "broadcast_object_list"])
def test_thread_ranks_naming_different_roots_fail_instead_of_exchanging_nothing(call):
    """Each rank names itself the root: before, broadcast and reduce finished having exchanged nothing (every rank
    kept or reduced into its own tensor), and the thread ranks never compared their roots."""
    def fn(rank):
        t = vt.full((3,), float(rank + 1))
        {"broadcast": lambda: dist.broadcast(t, src=rank),
         "reduce": lambda: dist.reduce(t, dst=rank),
         "gather": lambda: dist.gather(t, [vt.zeros(3) for _ in range(2)], dst=rank),
         "scatter": lambda: dist.scatter(t, [vt.zeros(3) for _ in range(2)], src=rank),
         "broadcast_object_list": lambda: dist.broadcast_object_list([rank], src=rank)}[call]()

    error = _thread_errors(fn)
    assert error is not None and re.search(rf"called {call} (from|to) rank \d where rank \d called {call} (from|to) "
                                           r"rank \d", error), error
    assert _thread_errors(lambda rank: dist.broadcast(vt.full((3,), float(rank)), src=1)) is None


@pytest.mark.parametrize("call", ["all_gather", "gather", "scatter", "reduce_scatter"])
def test_a_result_slot_of_another_shape_is_refused_not_broadcast_into(call):
    """copy_ broadcast a rank's (1,) tensor into a (3,) slot: every slot read 3 copies of one value. Now the
    collective says which rank's tensor does not fit."""
    def fn(rank):
        if call == "all_gather":
            dist.all_gather([vt.zeros(3), vt.zeros(3)], vt.ones(1))
        elif call == "gather":
            dist.gather(vt.ones(1), [vt.zeros(3), vt.zeros(3)] if rank == 0 else None, dst=0)
        elif call == "scatter":
            dist.scatter(vt.zeros(3), [vt.ones(1), vt.ones(1)] if rank == 0 else None, src=0)
        else:
            dist.reduce_scatter(vt.zeros(3), [vt.ones(1), vt.ones(1)])

    error = _thread_errors(fn)
    assert error is not None and re.search(rf"{call}: rank \d's tensor has shape \(1,\), but the tensor it is written "
                                           r"to here has shape \(3,\)", error), error
