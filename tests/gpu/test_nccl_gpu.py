"""backend 'nccl' (Note [NCCL backend]) on one GPU: a communicator of one rank through the real library, each
collective enqueued on vibetensor's stream; what it refuses. Several GPUs: the multi-GPU issue's machines."""
import numpy as np
import pytest

import vibetensor as vt
from vibetensor.distributed import nccl
from vibetensor.distributed.store import TCPStore

pytestmark = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a GPU")


@pytest.fixture
def group():
    try:
        nccl.library()
    except RuntimeError as e:
        pytest.skip(str(e))
    store = TCPStore("127.0.0.1", 0, 1, is_master=True, timeout=30)
    g = nccl.NcclProcessGroup(store, 0, 1, timeout=30)
    yield g
    g.shutdown()


def test_a_world_of_one_through_nccl_on_cuda(group):
    assert nccl.version() >= 21800 and group.size() == 1 and group.name() == "nccl"
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    for op in ("sum", "avg", "max", "min", "product"):
        x = vt.from_numpy(a).cuda()
        group.all_reduce(x, op)
        assert np.array_equal(x.cpu().numpy(), a), op
    x = vt.from_numpy(a).to(vt.bfloat16).cuda()
    group.broadcast(x, 0)
    outs = [vt.zeros(3, 4, device="cuda")]
    group.all_gather(outs, vt.from_numpy(a).cuda())
    out = vt.zeros(3, 4, device="cuda")
    group.reduce_scatter(out, [vt.from_numpy(a * 2).cuda()], "sum")
    group.barrier()
    assert np.array_equal(outs[0].cpu().numpy(), a) and np.array_equal(out.cpu().numpy(), a * 2)
    assert np.array_equal(x.float().cpu().numpy(), a)
    objs = [None]
    group.all_gather_object(objs, {"rank": 0})
    assert objs == [{"rank": 0}]


def test_nccl_on_cuda_refuses_tensors_it_cannot_take(group):
    with pytest.raises(ValueError, match="backend 'nccl' takes CUDA tensors on cuda:0"):
        group.all_reduce(vt.zeros(4), "sum")
    with pytest.raises(ValueError, match="backend 'nccl' takes contiguous tensors"):
        group.all_reduce(vt.zeros(4, 4, device="cuda").t(), "sum")
    with pytest.raises(ValueError, match="reduce op 'band' is not supported by backend 'nccl'"):
        group.all_reduce(vt.zeros(4, device="cuda"), "band")
