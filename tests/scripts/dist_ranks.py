"""A rank of a vibetensor.distributed job for tests/test_distributed_store.py: `collectives` checks every
collective against the values numpy computes for the same per-rank inputs; the other modes misbehave on
purpose (a mismatched shape, a rank that leaves, a rank that calls another collective, a rank given another
world size); `reinit` forms the default group, destroys it and forms it again, three times (Note [Leaving a
group])."""
import os
import sys

import numpy as np

import vibetensor as vt
import vibetensor.distributed as dist


def values(rank, shape=(3, 5), dtype=np.float32):
    return (np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * (rank + 1) - rank).astype(dtype)


def check(name, got, want):
    got = got.numpy() if hasattr(got, "numpy") else got
    if not np.array_equal(got, want):
        raise AssertionError(f"rank {dist.get_rank()} {name}: got {got}, expected {want}")


def collectives(rank, size):
    every = [values(r) for r in range(size)]
    for op, fn in (("sum", np.add), ("max", np.maximum), ("min", np.minimum), ("product", np.multiply)):
        t = vt.from_numpy(values(rank))
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op.upper()))
        want = every[0]
        for a in every[1:]:
            want = fn(want, a)
        check(f"all_reduce {op}", t, want)
    t = vt.from_numpy(values(rank))
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    check("all_reduce avg", t, (sum(e.astype(np.float32) for e in every) / np.float32(size)).astype(np.float32))
    ti = vt.from_numpy(values(rank, (4,), np.int64))
    dist.all_reduce(ti)
    check("all_reduce int64", ti, sum(values(r, (4,), np.int64) for r in range(size)))
    t = vt.from_numpy(values(rank))
    dist.broadcast(t, src=size - 1)
    check("broadcast", t, every[-1])
    outs = [vt.zeros(3, 5) for _ in range(size)]
    dist.all_gather(outs, vt.from_numpy(values(rank)))
    for r in range(size):
        check(f"all_gather[{r}]", outs[r], every[r])
    out = vt.zeros(3, 5)
    dist.reduce_scatter(out, [vt.from_numpy(values(rank) + r) for r in range(size)])
    check("reduce_scatter", out, sum(every[q] + rank for q in range(size)))
    t = vt.from_numpy(values(rank))
    dist.reduce(t, dst=0)
    check("reduce", t, sum(every) if rank == 0 else every[rank])
    gl = [vt.zeros(3, 5) for _ in range(size)] if rank == 1 else None
    dist.gather(vt.from_numpy(values(rank)), gl, dst=1)
    if rank == 1:
        for r in range(size):
            check(f"gather[{r}]", gl[r], every[r])
    t = vt.zeros(3, 5)
    dist.scatter(t, [vt.from_numpy(values(r) * 2) for r in range(size)] if rank == 0 else None, src=0)
    check("scatter", t, every[rank] * 2)
    objs = [None] * size
    dist.all_gather_object(objs, {"rank": rank})
    assert objs == [{"rank": r} for r in range(size)], objs
    lst = [rank, "x"] if rank == 2 else [None, None]
    dist.broadcast_object_list(lst, src=2)
    assert lst == [2, "x"], lst
    dist.barrier()


def main():
    mode = sys.argv[1]
    if mode == "world_size" and os.environ["RANK"] == "1":  # started as if by another launcher
        os.environ["WORLD_SIZE"] = str(int(os.environ["WORLD_SIZE"]) + 1)
    if mode == "reinit":  # each round a new store; a rank that leaves first must not meet at the old one
        for round_ in range(3):
            dist.init_process_group("gloo", timeout=30)
            t = vt.from_numpy(values(dist.get_rank()) + round_)
            dist.all_reduce(t)
            check(f"round {round_} all_reduce", t, sum(values(r) + round_ for r in range(dist.get_world_size())))
            dist.destroy_process_group()
    if mode == "reinit_store":  # one store passed to two groups; rank 2 leaves after the first
        rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), size, is_master=rank == 0,
                              timeout=30)
        dist.init_process_group("gloo", store=store, timeout=30)
        dist.all_reduce(vt.zeros(2))
        dist.destroy_process_group()
        if rank == 2:
            return
        dist.init_process_group("gloo", store=store, timeout=float(sys.argv[2]))
        dist.all_reduce(vt.zeros(2))
        return
    dist.init_process_group("gloo", timeout=float(sys.argv[2]) if len(sys.argv) > 2 else None)
    rank, size = dist.get_rank(), dist.get_world_size()
    if mode == "collectives":
        collectives(rank, size)
    elif mode == "mismatch":
        dist.all_reduce(vt.zeros(2, 3) if rank == 1 else vt.zeros(3, 2))
    elif mode == "leave":
        if rank == 1:
            sys.exit(3)
        dist.all_reduce(vt.zeros(2))
    elif mode == "absent":
        if rank != 1:
            dist.all_reduce(vt.zeros(2))
        return  # rank 1 leaves without the collective (and without destroy_process_group)
    elif mode == "other_collective":
        if rank == 1:
            dist.barrier()
        else:
            dist.all_reduce(vt.zeros(2))
    dist.destroy_process_group()
    print(f"rank {rank} of {size}: ok", flush=True)


if __name__ == "__main__":
    main()
