"""A rank of a data-parallel job for tests/test_distributed_store.py: DistributedDataParallel over the store
backend against one process training on the whole batch (Note [Gradient buckets]). Modes (the policy
comm.overlap comes from VT_POLICY): overlap, after_backward, no_sync, unused_on_rank1 (a layer only rank 0 uses), unused (find_unused_parameters=False: the second forward raises), unused_found."""
import sys

import numpy as np

import vibetensor as vt
import vibetensor.distributed as dist
from vibetensor import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(5, 7)
        self.b = nn.Linear(7, 3)
        self.spare = nn.Linear(3, 3)  # used only where the mode says

    def forward(self, x, use_spare=True):
        y = self.b(vt.tanh(self.a(x)))
        return self.spare(y) if use_spare else y


def main():
    mode = sys.argv[1]
    dist.init_process_group("gloo")
    rank, size = dist.get_rank(), dist.get_world_size()
    vt.manual_seed(100 + rank)  # different on every rank: DDP starts them all from rank 0's
    model = Net()
    # unused_on_rank1: the spare layer is in rank 0's loss only (the reference weighs each rank's half alike)
    use_spare = mode not in ("unused", "unused_found") and not (mode == "unused_on_rank1" and rank == 1)
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0002, overlap=None,  # comm.overlap decides
                                              find_unused_parameters=mode in ("unused_found", "unused_on_rank1"))
    reference = Net()
    reference.load_state_dict(model.state_dict())
    rng = np.random.default_rng(7)
    batches = [rng.standard_normal((4 * size, 5)).astype(np.float32) for _ in range(4)]
    opt = vt.optim.SGD(ddp.parameters(), lr=0.1)
    ref_opt = vt.optim.SGD(reference.parameters(), lr=0.1)
    rows = slice(4 * rank, 4 * rank + 4)
    try:
        for step, x in enumerate(batches):
            if mode == "no_sync" and step % 2 == 0:
                with ddp.no_sync():  # accumulate this micro-batch locally, reduce with the next one
                    (ddp(vt.from_numpy(x[rows]), use_spare) ** 2).mean().backward()
                (reference(vt.from_numpy(x), use_spare) ** 2).mean().backward()
                continue
            (ddp(vt.from_numpy(x[rows]), use_spare) ** 2).mean().backward()
            if mode == "unused_on_rank1":
                halves = [(reference(vt.from_numpy(x[4 * r:4 * r + 4]), r != 1) ** 2).mean() for r in range(size)]
                (sum(halves[1:], halves[0]) / size).backward()
            else:
                (reference(vt.from_numpy(x), use_spare) ** 2).mean().backward()
            opt.step()
            opt.zero_grad()
            ref_opt.step()
            ref_opt.zero_grad()
    except RuntimeError as e:
        print(f"rank {rank}: {e}", flush=True)
        raise
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        diff = float(np.abs(p.detach().numpy() - q.detach().numpy()).max())
        if diff > 2e-6:
            raise AssertionError(f"rank {rank}: {name} differs from one-process training by {diff}")
    states = [None] * size  # and every rank holds the same parameters (they started from rank 0's)
    dist.all_gather_object(states, [p.detach().numpy() for p in model.parameters()])
    if not all(np.array_equal(a, b) for s in states[1:] for a, b in zip(states[0], s)):
        raise AssertionError(f"rank {rank}: the ranks' parameters differ after training")
    launched = ddp._reducer.launched_in_backward  # of the last backward's buckets, reduced while it ran
    dist.destroy_process_group()
    print(f"rank {rank} of {size}: {len(ddp._reducer.buckets)} buckets, {launched} launched in backward", flush=True)
    print(f"rank {rank} of {size}: {mode} ok", flush=True)


if __name__ == "__main__":
    main()
