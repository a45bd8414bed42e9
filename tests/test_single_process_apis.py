"""torch's single-process APIs that training scripts call: torch.cuda seeding, torch.backends.cudnn's flags,
torch.distributed without a launcher (and with a world of one), nn.parallel's wrappers; against torch where
torch runs them on this machine."""
import subprocess
import sys

import pytest
import torch

import vibetensor as vt
from harness import assert_close, to_vt


def test_cuda_manual_seed_all_seeds_the_shared_generator():
    vt.manual_seed(3)
    a = vt.rand(5)
    vt.cuda.manual_seed_all(3)  # no GPU needed, as in torch
    b = vt.rand(5)
    vt.cuda.manual_seed(3)
    c = vt.rand(5)
    assert vt.equal(a, b) and vt.equal(a, c)
    assert vt.cuda.initial_seed() == 3


def test_cudnn_flags_are_settable_with_torchs_defaults(tmp_path):
    cudnn = vt.backends.cudnn
    for name in ("enabled", "benchmark", "deterministic"):
        assert getattr(cudnn, name) == getattr(torch.backends.cudnn, name), name
    # allow_tf32: the tests run with it off (conftest.py); a fresh process has torch's default
    code = "import torch, vibetensor as vt; print(vt.backends.cudnn.allow_tf32, torch.backends.cudnn.allow_tf32)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.split() == ["True", "True"], out
    assert cudnn.is_available() is False and cudnn.version() is None
    cudnn.benchmark, cudnn.deterministic = True, True
    try:
        with cudnn.flags(enabled=False, deterministic=False):
            assert cudnn.enabled is False and cudnn.deterministic is False
        assert cudnn.enabled is True and cudnn.deterministic is True and cudnn.benchmark is True
    finally:
        cudnn.benchmark, cudnn.deterministic = False, False


def test_distributed_uninitialized_is_torchs():
    dist = vt.distributed
    assert dist.is_available() is True
    assert dist.is_initialized() is torch.distributed.is_initialized() is False
    for fn in ("get_rank", "get_world_size", "barrier"):
        with pytest.raises(ValueError) as expected:
            getattr(torch.distributed, fn)()
        with pytest.raises(ValueError) as got:
            getattr(dist, fn)()
        assert str(got.value) == str(expected.value), fn


def test_ddp_without_a_process_group_raises_torchs_error():
    with pytest.raises(ValueError) as expected:
        torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError) as got:
        vt.nn.parallel.DistributedDataParallel(vt.nn.Linear(2, 2))
    assert str(got.value) == str(expected.value)


def test_a_world_of_one_process(monkeypatch):
    dist = vt.distributed
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    dist.init_process_group("nccl")
    try:
        assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
        assert dist.get_backend() == "nccl"
        with pytest.raises(ValueError, match="twice"):
            dist.init_process_group("gloo")
        x = vt.tensor([1.0, 2.0])
        dist.all_reduce(x, op=dist.ReduceOp.SUM)
        dist.broadcast(x, src=0)
        assert dist.barrier(async_op=True).wait()
        assert x.tolist() == [1.0, 2.0]
        out = [vt.zeros(2)]
        dist.all_gather(out, x)
        assert out[0].tolist() == [1.0, 2.0]
        objs = [None]
        dist.all_gather_object(objs, {"a": 1})
        assert objs == [{"a": 1}]
        model = vt.nn.Linear(3, 2)
        ddp = vt.nn.parallel.DistributedDataParallel(model, device_ids=[0])
        assert ddp.module is model
        inp = vt.randn(4, 3)
        assert vt.equal(ddp(inp), model(inp))
        with ddp.no_sync():
            ddp(inp).sum().backward()
        assert model.weight.grad is not None
        assert sorted(ddp.state_dict()) == ["module.bias", "module.weight"]
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized()


def test_more_than_one_rank_needs_the_launchers_environment(monkeypatch):
    """Several ranks meet at a store (tests/test_distributed_store.py runs them); without MASTER_ADDR there is
    none to meet at."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    with pytest.raises(ValueError, match=r"a world of 2 ranks meets at MASTER_ADDR:MASTER_PORT, but MASTER_ADDR"):
        vt.distributed.init_process_group("gloo")
    assert not vt.distributed.is_initialized()


def test_data_parallel_runs_the_module():
    t = torch.nn.Linear(3, 2)
    model = vt.nn.Linear(3, 2)
    model.load_state_dict({k: to_vt(v) for k, v in t.state_dict().items()})
    x = torch.randn(4, 3)
    assert_close(vt.nn.DataParallel(model)(to_vt(x)), torch.nn.DataParallel(t)(x).detach())
    assert vt.nn.DataParallel is vt.nn.parallel.DataParallel
