"""Issue 15's multi-GPU parts on real GPUs: the topology (Note [Device topology]), Fabric's data paths (Note
[Fabric]), thread ranks on CUDA devices (Note [Thread ranks]) and the ring all-reduce over NCCL (Note [Ring
all-reduce]). With one GPU: the topology's one row, Fabric's CPU-operand fallback, two thread ranks sharing
cuda:0; the rest skips cleanly with fewer than two GPUs."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import vibetensor as vt
import vibetensor.distributed as dist
from vibetensor.cuda import fabric

pytestmark = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a GPU")
two_gpus = pytest.mark.skipif(vt.cuda.device_count() < 2, reason="needs two GPUs")
BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "bench_allreduce.py")


@pytest.fixture(autouse=True)
def fresh_stats(restore_policies):
    fabric.reset_stats()
    yield
    fabric.reset_stats()


def test_the_topology_has_a_row_per_ordered_pair():
    frame = vt.cuda.topology()
    n = vt.cuda.device_count()
    assert len(frame) == n * n and frame.attrs["reason"] is None
    assert sorted(zip(frame.src, frame.dst)) == [(s, d) for s in range(n) for d in range(n)]
    assert frame.src_uva.all() and frame.dst_uva.all()  # every 64-bit CUDA GPU has unified addressing
    itself = frame[frame.src == frame.dst]
    assert itself.p2p_access.isna().all()
    assert (itself.src_name == vt.cuda.get_device_name(0)).any()
    pairs = frame[frame.src != frame.dst]
    assert pairs.p2p_access.isin([True, False]).all()
    assert frame.nvlink_active.isna().all() == frame.nvlink_reason.notna().all()


@pytest.mark.parametrize("mode", ["off", "best_effort", "dry_run"])
def test_a_cpu_operand_is_refused_or_copied_by_mode(mode):
    a = vt.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3)).cuda()
    b = vt.from_numpy(np.full(3, 2.0, np.float32))
    with vt.policy.override({"fabric.mode": mode}):
        if mode == "off":
            with pytest.raises(RuntimeError, match="found cuda:0 and cpu"):
                fabric.mul(a, b)
            return
        got = fabric.mul(a, b)
    assert str(got.device) == "cuda:0"
    assert np.array_equal(got.cpu().numpy(), np.arange(6, dtype=np.float32).reshape(2, 3) * 2)
    s = fabric.stats()
    assert (s["attempts"], s["hits"], s["fallbacks"], s["remote_bytes"]) == (1, 0, 1, 12)


OPS = [("add", lambda x, y: x + y), ("sub", lambda x, y: x - y), ("mul", torch.mul), ("div", torch.div)]


@two_gpus
@pytest.mark.parametrize("mode", ["best_effort", "dry_run"])
def test_ops_across_two_gpus_match_torch_and_count_hits(mode):
    """cuda:0's op reading cuda:1's operand: over P2P where the topology allows (a hit), else after a copy."""
    readable, why = fabric.peer_readable(0, 1)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((64, 128)).astype(np.float32), rng.uniform(0.5, 2, (128,)).astype(np.float32)
    with vt.policy.override({"fabric.mode": mode}):
        for name, reference in OPS:
            got = getattr(fabric, name)(vt.from_numpy(a).to("cuda:0"), vt.from_numpy(b).to("cuda:1"))
            assert str(got.device) == "cuda:0"
            np.testing.assert_allclose(got.cpu().numpy(), reference(torch.from_numpy(a), torch.from_numpy(b)).numpy(),
                                       rtol=1e-6)
    s = fabric.stats()
    assert s["attempts"] == 4 and s["remote_bytes"] == 4 * 128 * 4
    if mode == "best_effort" and readable:
        assert s["hits"] == 4 and s["fallbacks"] == 0
    elif mode == "best_effort":
        assert s["fallback_reasons"] == {why: 4}
    else:
        assert s["hits"] == 0 and s["fallbacks"] == 4 and s["dry_run_would_hit"] == (4 if readable else 0)


@two_gpus
def test_off_refuses_two_gpus_naming_them():
    with pytest.raises(RuntimeError, match="found cuda:0 and cuda:1"):
        fabric.add(vt.ones(2, device="cuda:0"), vt.ones(2, device="cuda:1"))


def _collectives_on(devices, algorithm):
    def rank_fn(rank):
        dist.init_process_group("threads")
        t = vt.full((1000,), float(rank + 1), device=devices[rank])
        dist.all_reduce(t)
        outs = [vt.zeros(3, device=devices[rank]) for _ in devices]
        dist.all_gather(outs, vt.full((3,), float(rank), device=devices[rank]))
        dist.destroy_process_group()
        return t.cpu().numpy(), [o.cpu().numpy() for o in outs]

    n = len(devices)
    with vt.policy.override({"comm.allreduce": algorithm}):
        for total, gathered in dist.spawn_threads(rank_fn, n, devices=devices, timeout=60):
            assert np.array_equal(total, np.full(1000, n * (n + 1) / 2, np.float32))
            assert all(np.array_equal(g, np.full(3, r, np.float32)) for r, g in enumerate(gathered))


@pytest.mark.parametrize("algorithm", ["nccl", "ring"])
def test_two_thread_ranks_share_one_gpu(algorithm):
    _collectives_on(["cuda:0", "cuda:0"], algorithm)


@two_gpus
@pytest.mark.parametrize("algorithm", ["nccl", "ring"])
def test_thread_ranks_on_every_gpu(algorithm):
    _collectives_on([f"cuda:{d}" for d in range(vt.cuda.device_count())], algorithm)


@two_gpus
@pytest.mark.parametrize("algorithm", ["nccl", "ring"])
def test_the_all_reduce_benchmark_over_nccl_processes(tmp_path, algorithm):
    """Both comm.allreduce values over NCCL between processes (the ring: ncclSend / ncclRecv), checked by the
    benchmark's own sum before it times."""
    r = subprocess.run([sys.executable, BENCH, "--nproc", str(vt.cuda.device_count()), "--device", "cuda", "--backend",
                        "nccl", "--algorithm", algorithm, "--sizes", "4K,16M", "--iters", "3"],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"algorithm {algorithm}" in r.stdout
