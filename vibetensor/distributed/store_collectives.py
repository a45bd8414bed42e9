"""Collectives of several processes through the job's TCPStore (Note [Store collectives])."""
import json
import pickle
import struct
import threading

import numpy as np

from vibetensor import _interop
from vibetensor.autograd.grad_mode import no_grad
from vibetensor.distributed import ring
from vibetensor.distributed._shapes import check_fits, check_same

# Note [Store collectives]
# vibetensor's first multi-process backend, registered under torch's CPU backend name "gloo": every rank
# posts its tensor's bytes under a key of the collective's sequence number, reads its peers' (blocking, with
# the group's timeout), and reduces them itself in rank order, so every rank computes the same result bit for
# bit. The store's server (rank 0) relays all traffic: each rank sends its tensor once and receives the other
# world_size - 1, O(world_size) bytes per rank, against a ring's constant; a transport for correctness, CPU
# training of small models and the tests, not for bandwidth (NCCL's place). CUDA tensors are staged through
# host memory. Each payload carries its shape and dtype: ranks whose tensors disagree raise, naming the ranks
# and their shapes, instead of reducing mismatched bytes. A rank that dies or never calls the collective makes
# its peers' reads time out with a message naming it. After every rank has read a collective's keys, the last
# one to finish deletes them.

_HEADER = struct.Struct("!I")
_REDUCE = {"sum": np.add, "avg": np.add, "product": np.multiply, "min": np.minimum, "max": np.maximum,
           "band": np.bitwise_and, "bor": np.bitwise_or, "bxor": np.bitwise_xor}


def _host(tensor):
    """The tensor's values as a contiguous host array (CUDA tensors staged through host memory)."""
    t = tensor.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    return np.ascontiguousarray(t.numpy())


def _write(tensor, array):
    """Copies a host array into tensor (any device), in place."""
    with no_grad():
        tensor.copy_(_interop.from_numpy(np.require(array, requirements=["C", "W"])).to(tensor.device))


class StoreProcessGroup:
    """A process group of `size` ranks whose collectives go through `store` (Note [Store collectives])."""

    def __init__(self, store, rank, size, backend="gloo", timeout=300.0, prefix="pg0", owns_store=True):
        self.store, self._rank, self._size, self._backend = store, rank, size, backend
        self.timeout = timeout
        self.prefix = prefix
        self.owns_store = owns_store  # a store passed to init_process_group stays open, as in torch
        self._seq = 0
        # One collective at a time per process: its number and its exchange together, so that collectives
        # issued from two threads (DDP's communication thread, the caller's) are numbered as they run.
        self._lock = threading.RLock()

    def rank(self):
        return self._rank

    def size(self):
        return self._size

    def name(self):
        return self._backend

    # --- the exchange every collective is made of -------------------------------------------------------
    # Note [Rooted store collectives]
    # reduce, gather, broadcast and scatter have a root. Each rank posts its call with the root in its op name
    # (broadcast's also with the shape and dtype), and the root reads every rank's post. So a rank naming
    # another root, which would otherwise finish having exchanged nothing (two ranks each broadcasting "from
    # itself"), fails at the root and, for broadcast and scatter, at the ranks that read the root's post.
    # broadcast and scatter's other ranks post an empty payload: the root waits for every rank's call, a
    # store round trip that buys the check.

    def _key(self, seq, what, rank):
        return f"{self.prefix}/{seq}/{what}/{rank}"

    def _post(self, seq, what, payload, rank=None):
        self.store.set(self._key(seq, what, self._rank if rank is None else rank), payload)

    def _read(self, seq, what, rank, op):
        try:
            return self.store.get(self._key(seq, what, rank), self.timeout)
        except TimeoutError:
            raise RuntimeError(f"{op} (collective #{seq} of the group): rank {self._rank} waited {self.timeout:g} s "
                               f"for rank {rank}, which did not reach it (it exited, failed, or calls a different "
                               "sequence of collectives)") from None

    def _finish(self, seq, keys):
        """The last rank to finish collective `seq` deletes its keys."""
        if self.store.add(f"{self.prefix}/{seq}/done", 1) == self._size:
            for k in keys:
                self.store.delete_key(k)
            self.store.delete_key(f"{self.prefix}/{seq}/done")

    def _next(self):
        self._seq += 1
        return self._seq

    @staticmethod
    def _pack(op, array):
        meta = json.dumps({"op": op, "shape": list(array.shape), "dtype": array.dtype.str}).encode()
        return _HEADER.pack(len(meta)) + meta + array.tobytes()

    def _unpack(self, seq, op, rank, payload):
        (n,) = _HEADER.unpack_from(payload)
        meta = json.loads(payload[_HEADER.size:_HEADER.size + n])
        if meta["op"] != op:
            raise RuntimeError(f"collective #{seq} of the group: rank {self._rank} called {op} where rank {rank} "
                               f"called {meta['op']}; expected every rank to call the same collectives in the same "
                               "order")
        data = np.frombuffer(payload, dtype=np.dtype(meta["dtype"]), offset=_HEADER.size + n)
        return data.reshape(meta["shape"])

    def _exchange(self, op, array, ranks=None):
        """Posts this rank's array and returns the arrays of `ranks` (every rank's by default) by rank."""
        with self._lock:
            seq = self._next()
            self._post(seq, "x", self._pack(op, array))
            ranks = range(self._size) if ranks is None else ranks
            arrays = {r: array if r == self._rank else self._unpack(seq, op, r, self._read(seq, "x", r, op))
                      for r in ranks}
            self._finish(seq, [self._key(seq, "x", r) for r in range(self._size)])
            return arrays

    @staticmethod
    def _check_same(op, arrays):
        check_same(op, {r: (tuple(a.shape), a.dtype.name) for r, a in arrays.items()})

    # --- collectives -----------------------------------------------------------------------------------

    def all_reduce(self, tensor, op):
        arrays = self._exchange("all_reduce", _host(tensor))
        self._check_same("all_reduce", arrays)
        _write(tensor, self._reduce(op, [arrays[r] for r in range(self._size)], "all_reduce"))

    def ring_all_reduce(self, tensor, op):
        """comm.allreduce=ring (Note [Ring all-reduce]): each chunk goes to the next rank under a key of its own,
        which that rank deletes once read."""
        with self._lock:
            seq = self._next()
            step = iter(range(2 * self._size))
            prev = (self._rank - 1) % self._size
            # the whole tensor's shape and dtype travel with each chunk: ranks whose tensors differ raise
            op_name = f"all_reduce (ring) of {list(tensor.shape)} {str(tensor.dtype).replace('vibetensor.', '')}"

            def shift(chunk, like):
                what = f"ring{next(step)}"
                self._post(seq, what, self._pack(op_name, _host(chunk)))
                received = self._unpack(seq, op_name, prev, self._read(seq, what, prev, "all_reduce (ring)"))
                self.store.delete_key(self._key(seq, what, prev))
                return _interop.from_numpy(np.require(received, requirements=["C", "W"])).to(like.device)

            ring.all_reduce(tensor, op, self._rank, self._size, shift)

    def _reduce(self, op, arrays, name):
        fn = _REDUCE.get(op)
        if fn is None:
            raise ValueError(f"{name}: reduce op {op!r} is not supported by the store backend; expected one of "
                             f"{sorted(_REDUCE)}")
        out = arrays[0].copy()
        for a in arrays[1:]:
            out = fn(out, a)
        if op == "avg":
            out = out / self._size if out.dtype.kind == "f" else out // self._size
        return out.astype(arrays[0].dtype, copy=False)

    # The rooted collectives name their root in the op every rank posts (Note [Rooted store collectives]).

    def reduce(self, tensor, dst, op):
        arrays = self._exchange(f"reduce to rank {dst}", _host(tensor), None if self._rank == dst else [self._rank])
        if self._rank == dst:
            self._check_same("reduce", arrays)
            _write(tensor, self._reduce(op, [arrays[r] for r in range(self._size)], "reduce"))

    def broadcast(self, tensor, src):
        mine = _host(tensor)
        op = f"broadcast from rank {src} of {list(mine.shape)} {mine.dtype.name}"
        if self._rank == src:
            self._exchange(op, mine)  # reads every rank's call (Note [Rooted store collectives])
        else:
            _write(tensor, self._exchange(op, np.zeros((0,), mine.dtype), [src])[src])

    def all_gather(self, outputs, tensor):
        if len(outputs) != self._size:
            raise ValueError(f"all_gather: expected a list of {self._size} tensors (the world size), got "
                             f"{len(outputs)}")
        arrays = self._exchange("all_gather", _host(tensor))
        self._check_same("all_gather", arrays)
        for r, out in enumerate(outputs):
            check_fits("all_gather", out, arrays[r].shape, r)
            _write(out, arrays[r])

    def reduce_scatter(self, output, inputs, op):
        if len(inputs) != self._size:
            raise ValueError(f"reduce_scatter: expected a list of {self._size} tensors (the world size), got "
                             f"{len(inputs)}")
        stacked = np.stack([_host(t) for t in inputs])
        arrays = self._exchange("reduce_scatter", stacked)
        self._check_same("reduce_scatter", arrays)
        check_fits("reduce_scatter", output, arrays[self._rank].shape[1:], self._rank)
        _write(output, self._reduce(op, [arrays[r][self._rank] for r in range(self._size)], "reduce_scatter"))

    def gather(self, tensor, gather_list, dst):
        arrays = self._exchange(f"gather to rank {dst}", _host(tensor), None if self._rank == dst else [self._rank])
        if self._rank == dst:
            if gather_list is None or len(gather_list) != self._size:
                raise ValueError(f"gather: rank {dst} expected a gather_list of {self._size} tensors")
            for r, out in enumerate(gather_list):
                check_fits("gather", out, arrays[r].shape, r)
                _write(out, arrays[r])

    def scatter(self, tensor, scatter_list, src):
        if self._rank == src:
            if scatter_list is None or len(scatter_list) != self._size:
                raise ValueError(f"scatter: rank {src} expected a scatter_list of {self._size} tensors")
            payload = np.stack([_host(t) for t in scatter_list])
        else:
            payload = np.zeros((0,), np.uint8)
        op = f"scatter from rank {src}"
        if self._rank != src:
            piece = self._exchange(op, payload, [src])[src][self._rank]
            check_fits("scatter", tensor, piece.shape, src)
            _write(tensor, piece)
        else:
            self._exchange(op, payload)  # reads every rank's call (Note [Rooted store collectives])
            check_fits("scatter", tensor, payload[self._rank].shape, src)
            _write(tensor, payload[self._rank])

    def barrier(self):
        self._exchange("barrier", np.zeros((0,), np.uint8))

    # Note [Leaving a group]
    # A script may form the default group again after destroy_process_group, as torch allows. Two things would
    # make the second group meet the first one's leftovers:
    # - Rank 0's store: the other ranks leave before rank 0 closes it, and a rank that calls
    #   init_process_group at once would reach the old store, still listening, and meet there. So rank 0 stops
    #   listening and only then says "closed", and a rank that leaves a store rank 0 owns returns only after
    #   that. Its next connection reaches the next store, retried until rank 0 serves it.
    # - A store passed to init_process_group outlives the group, with its keys (the join's, the NCCL id). Each
    #   group formed on one store has its own key prefix: the number of groups this process formed on it before
    #   (the same on every rank, which form and destroy their groups together).

    def shutdown(self):
        """destroy_process_group: a barrier, then every rank but 0 says it has left; rank 0, whose process serves
        the store, waits for them and closes it last (Note [Leaving a group])."""
        self.barrier()
        if self._rank != 0:
            if self.store.add(f"{self.prefix}/left", 1) == self._size - 1:
                self.store.set(f"{self.prefix}/all_left", b"1")
            if self.owns_store:
                self._wait_closed()
        elif self._size > 1:  # a world of one has nobody to wait for
            try:
                self.store.get(f"{self.prefix}/all_left", self.timeout)
            except TimeoutError:
                raise RuntimeError(f"destroy_process_group: rank 0 waited {self.timeout:g} s for the other ranks to "
                                   "leave the store") from None
            if self.owns_store:
                self.store.stop_serving()
                self.store.set(f"{self.prefix}/closed", b"1")
        if self.owns_store:
            self.store.close()

    def _wait_closed(self):
        try:
            self.store.get(f"{self.prefix}/closed", self.timeout)
        except TimeoutError:
            raise RuntimeError(f"destroy_process_group: rank {self._rank} waited {self.timeout:g} s for rank 0 to "
                               "stop serving the store") from None
        except RuntimeError:
            pass  # rank 0 closed the store already: the same thing

    def all_gather_object(self, object_list, obj):
        if len(object_list) != self._size:
            raise ValueError(f"all_gather_object: expected a list of {self._size} slots, got {len(object_list)}")
        blob = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
        arrays = self._exchange("all_gather_object", blob)
        for r in range(self._size):
            object_list[r] = pickle.loads(arrays[r].tobytes())

    def broadcast_object_list(self, object_list, src):
        op = f"broadcast_object_list from rank {src}"  # Note [Rooted store collectives]
        if self._rank == src:
            self._exchange(op, np.frombuffer(pickle.dumps(list(object_list)), dtype=np.uint8))
        else:
            object_list[:] = pickle.loads(self._exchange(op, np.zeros((0,), np.uint8), [src])[src].tobytes())
