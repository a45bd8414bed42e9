"""One process, one thread per rank (backend "threads", Note [Thread ranks]): spawn_threads and the collectives
of its ranks through memory shared in the process."""
import threading
import traceback

from vibetensor import cuda
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.distributed import ring
from vibetensor.distributed._shapes import check_fits, check_same

# Note [Thread ranks]
# VibeTensor's Fabric drives several GPUs from one process; this is that shape for data parallelism:
# spawn_threads(fn, world_size, devices) runs fn(rank) on one thread per rank, each bound to its device
# (cuda.set_device on its thread; CPU ranks too, so that everything runs without a GPU), and inside fn
# init_process_group("threads") makes that thread's default group (a thread-local one: each rank thread sees
# its own rank, the rest of the process the usual default group). The ranks share one _ThreadWorld: a
# collective is a rendezvous under its condition variable, numbered per rank as the store's are; each rank
# posts a private snapshot of its tensor (a clone, with an event on its stream for CUDA tensors, so that it may
# write its tensor in place while its peers still read) and reduces every rank's snapshot in rank order on its
# own device, copying the peers' across devices: every rank gets the same bits, as with the store backend.
# comm.allreduce=ring swaps that for the ring (Note [Ring all-reduce]), whose chunks go from each rank to its
# neighbour through a mailbox, copied device to device by the sender. The ranks share the process's runtime, so
# its process-wide serialization points are theirs: under autograd.gate=global one backward runs at a time
# across all devices, under autograd.gil=held the GIL too (tests/test_distributed_threads.py shows the gate's
# lock statistics). A rank that raises aborts the world: every peer waiting in (or later entering) a collective
# raises an error naming it, and spawn_threads raises the first failure, naming its rank; a rank that never
# arrives makes its peers' waits time out (the group's timeout), naming it. Nothing waits without a bound.
# The rooted collectives (reduce, broadcast, gather, scatter, broadcast_object_list) name their root in the op
# every rank posts, as the store's do (Note [Rooted store collectives]): two ranks each broadcasting "from
# itself" would otherwise finish having exchanged nothing.


class _ThreadWorld:
    def __init__(self, size, devices, timeout):
        self.size, self.devices, self.timeout = size, devices, timeout
        self.cond = threading.Condition()
        self.posts = {}  # collective number -> {rank: (op, payload)}
        self.taken = {}  # collective number -> ranks that have read it
        self.mail = {}  # (collective number, step, receiving rank) -> tensor (the ring's transfers)
        self.failed = None  # (rank, exception) of the first rank that raised
        self.left = set()  # ranks whose function has returned

    def abort(self, rank, error):
        with self.cond:
            if self.failed is None:
                self.failed = (rank, error)
            self.cond.notify_all()

    def leave(self, rank):
        with self.cond:
            self.left.add(rank)
            self.cond.notify_all()

    def _wait(self, ready, me, what, absent, timeout):
        """Waits (under cond) until ready(); raises when a rank failed, an awaited rank has returned from its
        function, or the timeout passed."""
        ok = self.cond.wait_for(lambda: self.failed is not None or ready() or self.left & set(absent()), timeout)
        if ready():
            return
        if self.failed is not None and self.failed[0] != me:
            r, e = self.failed
            raise RuntimeError(f"{what}: rank {me} stopped because rank {r} raised {type(e).__name__}: {e}")
        gone = sorted(self.left & set(absent()))
        if gone:
            raise RuntimeError(f"{what}: rank {me} waits for rank(s) {gone}, which returned from their function "
                               "without reaching it; expected every rank to call the same collectives")
        if not ok:
            raise RuntimeError(f"{what}: rank {me} waited {timeout:g} s for rank(s) {absent()}, which did not "
                               "reach it (they raised, hang, or call a different sequence of collectives)")

    def exchange(self, seq, rank, op, payload, timeout):
        """Posts this rank's payload to collective `seq` and returns every rank's {rank: payload}."""
        what = f"{op} (collective #{seq} of the thread group)"
        with self.cond:
            posts = self.posts.setdefault(seq, {})
            posts[rank] = (op, payload)
            self.cond.notify_all()
            self._wait(lambda: len(posts) == self.size, rank, what,
                       lambda: sorted(set(range(self.size)) - set(posts)), timeout)
            taken = self.taken.setdefault(seq, set())
            taken.add(rank)
            if len(taken) == self.size:
                del self.posts[seq], self.taken[seq]
        for r, (other, _) in posts.items():
            if other != op:
                raise RuntimeError(f"collective #{seq} of the thread group: rank {rank} called {op} where rank {r} "
                                   f"called {other}; expected every rank to call the same collectives in the same order")
        return {r: p for r, (_, p) in posts.items()}

    def send(self, key, tensor):
        with self.cond:
            self.mail[key] = tensor
            self.cond.notify_all()

    def receive(self, key, rank, source, what, timeout):
        with self.cond:
            self._wait(lambda: key in self.mail, rank, what, lambda: [source], timeout)
            return self.mail.pop(key)


class _Snapshot:
    """A tensor one rank hands its peers: a copy of it on `device` (its own by default), and for CUDA the event
    after which the copy is complete on the producer's stream."""

    def __init__(self, tensor, device=None):
        t = tensor.detach()
        same = device is None or str(device) == str(t.device)
        self.tensor = t.clone() if same else t.to(device)
        self.event = None
        if self.tensor.device.type == "cuda":
            self.event = cuda.Event()
            self.event.record(cuda.current_stream(self.tensor.device))

    def on(self, device):
        """The snapshot on `device`, ordered after its producer's stream (Note [CUDA copies])."""
        if self.event is not None:
            stream = cuda.current_stream(self.tensor.device)
            self.event.wait(stream)
            cuda.record_stream(self.tensor, stream)
        return self.tensor.to(device)


def _shape_of(tensor):
    return tuple(tensor.shape), str(tensor.dtype).replace("vibetensor.", "")


class ThreadProcessGroup:
    """Rank `rank` of a _ThreadWorld (Note [Thread ranks])."""

    def __init__(self, world, rank):
        self.world, self._rank, self._size = world, rank, world.size
        self.device = world.devices[rank]
        self.timeout = world.timeout
        self._seq = 0
        self._lock = threading.RLock()  # one collective at a time per rank (DDP's communication thread, the rank's)

    def rank(self):
        return self._rank

    def size(self):
        return self._size

    def name(self):
        return "threads"

    def _next(self):
        self._seq += 1
        return self._seq

    def _gather(self, op, tensor, check_shape=True):
        """Every rank's snapshot of `tensor`, by rank, after checking they agree in shape and dtype."""
        with self._lock:
            posted = self.world.exchange(self._next(), self._rank, op, _Snapshot(tensor), self.timeout)
        if check_shape:
            check_same(op, {r: _shape_of(s.tensor) for r, s in posted.items()})
        return posted

    def _reduce(self, op, tensors):
        """The reduction of `tensors` (one per rank, on this rank's device) in rank order."""
        out = tensors[0].clone()
        for t in tensors[1:]:
            ring._combine(out, t, op)
        if op == "avg":
            out = out / self._size if out.dtype.is_floating_point else out // self._size
        return out

    def all_reduce(self, tensor, op):
        posted = self._gather("all_reduce", tensor)
        with no_grad():
            tensor.copy_(self._reduce(op, [posted[r].on(tensor.device) for r in range(self._size)]))

    def ring_all_reduce(self, tensor, op):
        """comm.allreduce=ring (Note [Ring all-reduce]): each chunk copied to the next rank's device by the sender."""
        with self._lock:
            seq = self._next()
            # every rank takes part in the same numbered collective: a ring of ranks that disagree fails fast
            check_same("all_reduce", self.world.exchange(seq, self._rank, "ring_all_reduce", _shape_of(tensor),
                                                             self.timeout))
            step = iter(range(2 * self._size))
            nxt, prev = (self._rank + 1) % self._size, (self._rank - 1) % self._size

            def shift(chunk, like):
                s = next(step)
                self.world.send((seq, s, nxt), _Snapshot(chunk, self.world.devices[nxt]))
                got = self.world.receive((seq, s, self._rank), self._rank, prev,
                                         f"all_reduce (ring, collective #{seq} of the thread group)", self.timeout)
                return got.on(self.device)

            ring.all_reduce(tensor, op, self._rank, self._size, shift)

    def reduce(self, tensor, dst, op):
        posted = self._gather(f"reduce to rank {dst}", tensor)
        if self._rank == dst:
            with no_grad():
                tensor.copy_(self._reduce(op, [posted[r].on(tensor.device) for r in range(self._size)]))

    def broadcast(self, tensor, src):
        posted = self._gather(f"broadcast from rank {src}", tensor)
        if self._rank != src:
            with no_grad():
                tensor.copy_(posted[src].on(tensor.device))

    def all_gather(self, outputs, tensor):
        if len(outputs) != self._size:
            raise ValueError(f"all_gather: expected a list of {self._size} tensors (the world size), got {len(outputs)}")
        posted = self._gather("all_gather", tensor)
        with no_grad():
            for r, out in enumerate(outputs):
                check_fits("all_gather", out, posted[r].tensor.shape, r)
                out.copy_(posted[r].on(out.device))

    def reduce_scatter(self, output, inputs, op):
        if len(inputs) != self._size:
            raise ValueError(f"reduce_scatter: expected a list of {self._size} tensors (the world size), got "
                             f"{len(inputs)}")
        from vibetensor import _functional as F
        posted = self._gather("reduce_scatter", F.stack([t.detach() for t in inputs]))
        with no_grad():
            mine = [posted[r].on(output.device)[self._rank] for r in range(self._size)]
            check_fits("reduce_scatter", output, mine[0].shape, self._rank)
            output.copy_(self._reduce(op, mine))

    def gather(self, tensor, gather_list, dst):
        posted = self._gather(f"gather to rank {dst}", tensor)
        if self._rank == dst:
            if gather_list is None or len(gather_list) != self._size:
                raise ValueError(f"gather: rank {dst} expected a gather_list of {self._size} tensors")
            with no_grad():
                for r, out in enumerate(gather_list):
                    check_fits("gather", out, posted[r].tensor.shape, r)
                    out.copy_(posted[r].on(out.device))

    def scatter(self, tensor, scatter_list, src):
        with self._lock:
            mine = list(scatter_list) if self._rank == src else None
            if self._rank == src and (scatter_list is None or len(scatter_list) != self._size):
                raise ValueError(f"scatter: rank {src} expected a scatter_list of {self._size} tensors")
            posted = self.world.exchange(self._next(), self._rank, f"scatter from rank {src}",
                                         [_Snapshot(t) for t in mine] if mine is not None else None, self.timeout)
        piece = posted[src][self._rank]
        check_fits("scatter", tensor, piece.tensor.shape, src)
        with no_grad():
            tensor.copy_(piece.on(tensor.device))

    def barrier(self):
        with self._lock:
            self.world.exchange(self._next(), self._rank, "barrier", None, self.timeout)

    def all_gather_object(self, object_list, obj):
        if len(object_list) != self._size:
            raise ValueError(f"all_gather_object: expected a list of {self._size} slots, got {len(object_list)}")
        with self._lock:
            posted = self.world.exchange(self._next(), self._rank, "all_gather_object", obj, self.timeout)
        for r in range(self._size):
            object_list[r] = posted[r]

    def broadcast_object_list(self, object_list, src):
        with self._lock:
            posted = self.world.exchange(self._next(), self._rank, f"broadcast_object_list from rank {src}",
                                         list(object_list) if self._rank == src else None, self.timeout)
        if self._rank != src:
            object_list[:] = posted[src]

    def shutdown(self):
        """destroy_process_group: nothing to close (the store backends' barrier is for rank 0's server), so no
        rank waits for the others to leave, as in torch."""


# --- spawn_threads ----------------------------------------------------------------------------------------

_local = threading.local()  # a rank thread's (world, rank) until init_process_group("threads") takes it


def thread_rank():
    """(world, rank) of the calling spawn_threads rank, or None on any other thread."""
    return getattr(_local, "rank", None)


def _default_devices(size):
    if cuda.is_available():
        return [f"cuda:{r % cuda.device_count()}" for r in range(size)]
    return ["cpu"] * size


def spawn_threads(fn, world_size, devices=None, args=(), timeout=300.0):
    """Runs fn(rank, *args) on `world_size` threads of this process, rank r bound to devices[r] (default: one GPU
    each, round robin, else the CPU); inside fn, init_process_group("threads") makes the rank's group (Note
    [Thread ranks]). Returns fn's results by rank; when a rank raises, the others' collectives stop and this
    raises a RuntimeError naming the first rank that failed (its exception chained)."""
    from vibetensor._C import device as _device
    if world_size < 1:
        raise ValueError(f"spawn_threads: world_size must be at least 1, got {world_size}")
    devices = _default_devices(world_size) if devices is None else [str(d) for d in devices]
    if len(devices) != world_size:
        raise ValueError(f"spawn_threads: expected one device per rank ({world_size}), got {len(devices)}: {devices}")
    devices = [_device(d) for d in devices]
    world = _ThreadWorld(world_size, devices, float(timeout))
    results, errors = [None] * world_size, {}

    def run(rank):
        _local.rank = (world, rank)
        try:
            if devices[rank].type == "cuda":
                cuda.set_device(devices[rank].index or 0)
            results[rank] = fn(rank, *args)
        except BaseException as e:  # noqa: BLE001 - re-raised by spawn_threads, naming the rank
            errors[rank] = (e, traceback.format_exc())
            world.abort(rank, e)
        finally:
            from vibetensor import distributed as dist
            dist._leave_thread_group()
            _local.rank = None
            world.leave(rank)

    threads = [threading.Thread(target=run, args=(r,), name=f"vt-rank-{r}") for r in range(world_size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        first = world.failed[0] if world.failed is not None else min(errors)
        e, tb = errors[first]
        raise RuntimeError(f"spawn_threads: rank {first} (on {devices[first]}) raised {type(e).__name__}: {e}\n{tb}") \
            from e
    return results
