"""The home-made ring all-reduce of comm.allreduce=ring (Note [Ring all-reduce]), over any process group that
can pass a tensor to its next rank."""
import threading

from vibetensor import _functional as F
from vibetensor.autograd.grad_mode import no_grad

# Note [Ring all-reduce]
# comm.allreduce=ring is VibeTensor's fabric_ring: an all-reduce written by hand from point-to-point transfers
# instead of the backend's collective (NCCL's tuned rings and trees, the store's exchange, the thread world's
# shared memory). The flat tensor is cut into world_size chunks. Reduce-scatter: in step s (0 <= s < N-1) rank
# r sends its running chunk (r - s) mod N to rank r+1 and adds the chunk (r - s - 1) mod N it receives from rank
# r-1 into its own, on its own device; after N-1 steps rank r holds chunk (r + 1) mod N reduced over every
# rank. All-gather: in N-1 more steps each rank passes on the last complete chunk it got, which overwrites its
# own. Each rank sends 2 (N-1)/N of the tensor, the bandwidth-optimal amount (nccl-tests' busbw counts the
# same), but in lock-step, one chunk at a time, with no pipelining of slices, no channels and no tree for
# small messages: the gap to NCCL is what the policy measures. Every chunk's reduction is done once, by one
# rank, and then copied: all ranks end with the same bits. The transfer ("shift": send to the next rank,
# receive from the previous) is the group's: device-to-device copies between the thread ranks of one process
# (threads.py), keys of the job's TCP store between processes (store_collectives.py), ncclSend / ncclRecv in
# one NCCL group call (nccl.py). The counters below are plain integers, read by stats().

_stats_lock = threading.Lock()
_stats = {"all_reduces": 0, "shifts": 0, "bytes_sent": 0}


def stats():
    """{'all_reduces', 'shifts', 'bytes_sent'}: ring all-reduces run in this process, the neighbour transfers
    they made and the bytes those sent (every rank of the process counted)."""
    with _stats_lock:
        return dict(_stats)


def reset_stats():
    with _stats_lock:
        for k in _stats:
            _stats[k] = 0


def _combine(acc, received, op):
    """acc <- op(acc, received), in place on acc's device."""
    if op in ("sum", "avg"):
        acc.add_(received)
    elif op == "product":
        acc.mul_(received)
    elif op == "min":
        acc.copy_(F.minimum(acc, received))
    elif op == "max":
        acc.copy_(F.maximum(acc, received))
    else:
        raise ValueError(f"all_reduce: reduce op {op!r} is not supported by comm.allreduce=ring; expected one of "
                         "['avg', 'max', 'min', 'product', 'sum']")


def _bounds(numel, size):
    return [(i * numel // size, (i + 1) * numel // size) for i in range(size)]


def all_reduce(tensor, op, rank, size, shift):
    """Reduces `tensor` in place over `size` ranks; shift(chunk, like) sends chunk to rank+1 and returns the chunk
    rank-1 sent, shaped as `like` (the chunk it becomes) and on this rank's device (Note [Ring all-reduce])."""
    if op not in ("sum", "avg", "product", "min", "max"):
        _combine(None, None, op)  # raises naming the op
    with no_grad():
        work = tensor.detach()
        flat = work.reshape(-1) if work.is_contiguous() else work.contiguous().reshape(-1)
        chunks = [flat[a:b] for a, b in _bounds(flat.numel(), size)]
        shifts = sent = 0
        for s in range(size - 1):  # reduce-scatter
            out, into = chunks[(rank - s) % size], chunks[(rank - s - 1) % size]
            _combine(into, shift(out, into), op)
            shifts, sent = shifts + 1, sent + out.numel() * out.element_size()
        for s in range(size - 1):  # all-gather
            out, into = chunks[(rank + 1 - s) % size], chunks[(rank - s) % size]
            into.copy_(shift(out, into))
            shifts, sent = shifts + 1, sent + out.numel() * out.element_size()
        if op == "avg":
            if flat.dtype.is_floating_point:
                flat.div_(size)
            else:
                flat.copy_(F.floor_divide(flat, size))
        if not work.is_contiguous():
            work.copy_(flat.view(work.shape))
    with _stats_lock:
        _stats["all_reduces"] += 1
        _stats["shifts"] += shifts
        _stats["bytes_sent"] += sent
