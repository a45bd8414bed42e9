"""vibetensor.distributed: torch.distributed's API over a world of one process, or of several processes
whose collectives go through the job's TCP store (backend "gloo", Note [Store collectives]).

Note [One-process distributed]
A script run without a launcher is the world of one process that torch.distributed describes:
is_initialized() is False until init_process_group, and every call that needs the default group raises
torch's ValueError. init_process_group takes world_size and rank from the arguments, else WORLD_SIZE /
RANK from the environment (set by `python -m vibetensor.distributed.run`, or torchrun), else 1 and 0. In a
world of one every collective leaves its tensors as they are (an all_reduce of one rank is its own
tensor), so a script's rank-0 logging, barriers and gradient averaging do what they would do in torch with
world_size=1. A world of several ranks meets at a TCPStore (init_method "env://": MASTER_ADDR /
MASTER_PORT; or "tcp://host:port"; or store=) served by rank 0; its collectives go through that store under
backend "gloo" (store_collectives.py), or through NCCL under "nccl" (nccl.py), which a world of one does
not load (its collectives change nothing).
Backend "threads" is the world of one process with a thread per rank (spawn_threads, Note [Thread ranks] in
threads.py): each rank thread has its own default group. all_reduce follows the policy comm.allreduce: the
group's own collective (nccl), or the ring (Note [Ring all-reduce] in ring.py) over the group's transport.
is_available() is True, as for torch's Linux builds.
"""
import datetime
import os
import threading
import time
import weakref

from vibetensor import _C
from vibetensor.distributed import nccl
from vibetensor.distributed.nccl import NcclProcessGroup
from vibetensor.distributed.store import TCPStore
from vibetensor.distributed.store_collectives import StoreProcessGroup
from vibetensor.distributed.threads import ThreadProcessGroup, spawn_threads, thread_rank

_MULTI_RANK_GROUPS = (StoreProcessGroup, NcclProcessGroup, ThreadProcessGroup)

__all__ = ["is_available", "is_initialized", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "get_backend", "barrier", "all_reduce", "reduce", "broadcast", "all_gather",
           "gather", "scatter", "reduce_scatter", "all_gather_object", "broadcast_object_list", "new_group",
           "ReduceOp", "Backend", "GroupMember", "is_torchelastic_launched", "TCPStore", "spawn_threads"]

_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


class ReduceOp:
    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"
    AVG = "avg"
    PREMUL_SUM = "premul_sum"


class Backend(str):
    """A backend name, lower-cased as torch's Backend does."""
    GLOO = "gloo"
    NCCL = "nccl"
    THREADS = "threads"
    MPI = "mpi"
    UCC = "ucc"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend name must be a string, but got: {name}")
        return super().__new__(cls, name.lower())


class ProcessGroup:
    """The group of the one process: rank 0 of size 1."""

    def __init__(self, backend: str):
        self._backend = Backend(backend)

    def rank(self) -> int:
        return 0

    def size(self) -> int:
        return 1

    def name(self) -> str:
        return self._backend


class _Work:
    """What an async_op=True collective returns: already complete."""

    def wait(self, timeout=None) -> bool:
        return True

    def is_completed(self) -> bool:
        return True


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = object()


_lock = threading.Lock()  # init / destroy from several threads: one default group at a time
_thread = threading.local()  # .group: a spawn_threads rank's own default group (Note [Thread ranks])


def _world():
    """The calling thread's default group: its thread rank's, else the process's (None before init)."""
    return getattr(_thread, "group", None) or GroupMember.WORLD


def _leave_thread_group():
    _thread.group = None


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return _world() is not None


def is_torchelastic_launched() -> bool:
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def _env_int(name, given, default):
    value = os.environ.get(name)
    if given is not None and given != -1:
        if value is not None and int(value) != int(given):  # the launcher's word against the script's
            raise ValueError(f"init_process_group: {name.lower()}={given} contradicts the environment's {name}={value}; "
                             f"expected them to agree (or pass {name.lower()} only where the launcher sets none)")
        return int(given)
    return default if value is None else int(value)


_DEFAULT_TIMEOUT_S = 1800.0  # torch's default for its CPU backend: 30 minutes


def _seconds(timeout, default=None):
    """A timeout as torch takes it (a timedelta or seconds), in seconds; `default` for None."""
    if timeout is None:
        return default
    return timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Initializes the default group (Note [One-process distributed]): the world of one process, or
    `world_size` ranks meeting at a TCP store."""
    size = _env_int("WORLD_SIZE", world_size, 1)
    me = _env_int("RANK", rank, 0)
    if size < 1 or not 0 <= me < size:
        raise ValueError(f"init_process_group: rank {me} is not in a world of {size} process(es); expected "
                         "0 <= rank < world_size (from the arguments, else RANK and WORLD_SIZE)")
    name = Backend(backend or "gloo")
    if name == Backend.THREADS:
        return _init_thread_group(world_size, rank, timeout)
    seconds = _seconds(timeout, _DEFAULT_TIMEOUT_S)
    with _lock:
        if GroupMember.WORLD is not None:
            raise ValueError("trying to initialize the default process group twice!")
        if size == 1:
            GroupMember.WORLD = ProcessGroup(name)
            return
        if name not in (Backend.GLOO, Backend.NCCL):
            raise RuntimeError(f"init_process_group: backend {name!r} is not available in vibetensor; expected "
                               "'gloo' (collectives through the job's TCP store, Note [Store collectives]), 'nccl' "
                               "(Note [NCCL backend]) or 'threads' (in spawn_threads, Note [Thread ranks])")
        if name == Backend.NCCL:
            nccl.require()  # a rank that cannot take part fails before the others wait for it
        owns_store = store is None
        if owns_store:
            store = _rendezvous(init_method, me, size, seconds)
        generation = _groups_formed.get(store, 0)  # Note [Leaving a group]
        try:
            _join(store, me, size, seconds, prefix=f"vt/{generation}/join")
        except BaseException:
            if owns_store:
                store.close()
            raise
        _groups_formed[store] = generation + 1
        GroupMember.WORLD = (NcclProcessGroup(store, me, size, seconds, prefix=f"nccl{generation}",
                                              owns_store=owns_store)
                             if name == Backend.NCCL else
                             StoreProcessGroup(store, me, size, name, seconds, prefix=f"pg{generation}",
                                               owns_store=owns_store))


def _init_thread_group(world_size, rank, timeout):
    """A spawn_threads rank joins its world: rank and size come from the thread, as RANK / WORLD_SIZE come from
    the environment for processes."""
    here = thread_rank()
    if here is None:
        raise RuntimeError("init_process_group: backend 'threads' is for the ranks of "
                           "vibetensor.distributed.spawn_threads(fn, world_size); this thread is not one of them")
    world, me = here
    for what, given, actual in (("world_size", world_size, world.size), ("rank", rank, me)):
        if given not in (None, -1) and given != actual:
            raise ValueError(f"init_process_group: {what}={given} does not match this thread rank's {what} {actual}")
    if getattr(_thread, "group", None) is not None:
        raise ValueError("trying to initialize the default process group twice!")
    group = ThreadProcessGroup(world, me)
    if timeout is not None:
        group.timeout = _seconds(timeout)
    _thread.group = group


_ABORT = b"abort:"
_groups_formed = weakref.WeakKeyDictionary()  # store -> default groups this process formed on it


def _posted(store, key, timeout):
    """The world size a rank posted under key, waiting for it; a ValueError with the message posted instead."""
    posted = store.get(key, timeout)
    if posted.startswith(_ABORT):
        raise ValueError(posted[len(_ABORT):].decode())
    return int(posted)


def _join(store, rank, size, timeout, prefix="vt/0/join"):
    """Every rank claims its rank, posts the world size it was given and meets the others before the group
    exists (as torch's store-based barrier at init), so that a job started wrongly fails at once, with a message
    naming the ranks, instead of each rank waiting out the timeout in its first collective:
    - a rank started with another world size than rank 0's fails, naming both. One given a smaller world also
      answers, with its message, for the ranks rank 0's world has and its own lacks, so that the ranks waiting
      for those fail at once too;
    - a rank claimed twice (two processes given one RANK): the second claimant fails, and answers with its
      message for every rank nobody has claimed yet, which the world would otherwise wait for until the
      timeout; a process that comes later for such a rank reads the message and fails too.
    Every wait is the store's own blocking get."""
    mine = f"{prefix}/{rank}"
    if store.add(f"{prefix}/claim/{rank}", 1) != 1:
        _posted(store, mine, timeout)  # a duplicate's message for this unclaimed rank raises here
        message = (f"init_process_group: rank {rank} of a world of {size} was started twice; expected every "
                   "process to be given its own RANK")
        for k in range(size):
            if store.add(f"{prefix}/claim/{k}", 1) == 1:
                store.set(f"{prefix}/{k}", _ABORT + message.encode())
        raise ValueError(message)
    store.set(mine, str(size).encode())
    first = _posted(store, f"{prefix}/0", timeout)  # rank 0 is in every world
    if first != size:
        message = (f"init_process_group: rank {rank} was given a world of {size} rank(s), rank 0 a world of {first}; "
                   "expected every rank to be started with the same WORLD_SIZE")
        for missing in range(size, first):
            store.set(f"{prefix}/{missing}", _ABORT + message.encode())
        raise ValueError(message)
    deadline = time.monotonic() + timeout
    for r in range(1, size):
        try:
            posted = _posted(store, f"{prefix}/{r}", max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            waiting = [k for k in range(r, size) if not store.check([f"{prefix}/{k}"])]
            raise TimeoutError(f"init_process_group: rank {rank} waited {timeout:g} s for rank(s) "
                               f"{', '.join(map(str, waiting))} of a world of {size} to join") from None
        if posted != size:  # a rank given a larger world than rank 0's fails on its own; so must the others
            raise ValueError(f"init_process_group: rank {rank} was given a world of {size} rank(s), rank {r} a world "
                             f"of {posted}; expected every rank to be started with the same WORLD_SIZE")


def _rendezvous(init_method, rank, size, timeout):
    """The job's TCPStore from init_method ("env://" by default, or "tcp://host:port"); rank 0 serves it."""
    method = init_method or "env://"
    if method.startswith("env://"):
        host, port = os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT")
        if not host or not port:
            raise ValueError(f"init_process_group: a world of {size} ranks meets at MASTER_ADDR:MASTER_PORT, but "
                             f"{'MASTER_ADDR' if not host else 'MASTER_PORT'} is not set; expected the launcher's "
                             "environment (python -m vibetensor.distributed.run) or init_method='tcp://host:port'")
    elif method.startswith("tcp://"):
        host, _, port = method[len("tcp://"):].rpartition(":")
    else:
        raise ValueError(f"init_process_group: init_method {method!r} is not supported; expected 'env://' or "
                         "'tcp://host:port'")
    return TCPStore(host, int(port), size, is_master=rank == 0, timeout=timeout)


def destroy_process_group(group=None) -> None:
    if getattr(_thread, "group", None) is not None:
        world, _thread.group = _thread.group, None
        world.shutdown()
        return
    with _lock:
        world = _default_group()
        GroupMember.WORLD = None
    if isinstance(world, _MULTI_RANK_GROUPS):
        world.shutdown()  # rank 0 serves the store: it closes it only once every rank has left


def _default_group(group=None) -> ProcessGroup:
    if group is not None:  # a group passed in (DDP's, from its communication thread)
        return group
    world = _world()
    if world is None:
        raise ValueError(_NOT_INITIALIZED)
    return world


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None):
    world = _default_group()
    if ranks is not None and sorted(ranks) != list(range(world.size())):
        raise ValueError(f"new_group: ranks {list(ranks)} are not the whole world of {world.size()} rank(s); "
                         "vibetensor's groups are the world")
    return world


def get_rank(group=None) -> int:
    return _default_group(group).rank()


def get_world_size(group=None) -> int:
    return _default_group(group).size()


def get_backend(group=None) -> str:
    return _default_group(group).name()


def _done(group, async_op):
    _default_group(group)
    return _Work() if async_op else None


def _store_group(group):
    """The group when it has several ranks (a store, NCCL or thread group), else None (the world of one process)."""
    g = _default_group(group)
    return g if isinstance(g, _MULTI_RANK_GROUPS) else None


def _check_rank(what, rank, group):
    size = _default_group(group).size()
    if not 0 <= rank < size:
        raise ValueError(f"{what}: rank {rank} is not in the group of {size} rank(s)")


def barrier(group=None, async_op=False, device_ids=None):
    g = _store_group(group)
    if g:
        g.barrier()
    return _done(group, async_op)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """One rank: the reduction of the tensor with itself alone is the tensor (AVG too). Several: the group's
    collective, or the ring under comm.allreduce=ring (Note [Ring all-reduce])."""
    g = _store_group(group)
    if g:
        if _C._policy_get("comm.allreduce") == "ring":
            g.ring_all_reduce(tensor, op)
        else:
            g.all_reduce(tensor, op)
    return _done(group, async_op)


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False):
    _check_rank("reduce", dst, group)
    g = _store_group(group)
    if g:
        g.reduce(tensor, dst, op)
    return _done(group, async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    _check_rank("broadcast", src, group)
    g = _store_group(group)
    if g:
        g.broadcast(tensor, src)
    return _done(group, async_op)


def _copy_into(outputs, tensor, what):
    if len(outputs) != 1:
        raise ValueError(f"{what}: expected a list of 1 tensor (world size 1), got {len(outputs)}")
    outputs[0].copy_(tensor)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    g = _store_group(group)
    if g:
        g.all_gather(tensor_list, tensor)
    else:
        _copy_into(tensor_list, tensor, "all_gather")
    return _done(group, async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    _check_rank("gather", dst, group)
    g = _store_group(group)
    if g:
        g.gather(tensor, gather_list, dst)
    elif gather_list is not None:
        _copy_into(gather_list, tensor, "gather")
    return _done(group, async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    _check_rank("scatter", src, group)
    g = _store_group(group)
    if g:
        g.scatter(tensor, scatter_list, src)
    elif scatter_list is not None:
        if len(scatter_list) != 1:
            raise ValueError(f"scatter: expected a list of 1 tensor (world size 1), got {len(scatter_list)}")
        tensor.copy_(scatter_list[0])
    return _done(group, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    g = _store_group(group)
    if g:
        g.reduce_scatter(output, input_list, op)
        return _done(group, async_op)
    if len(input_list) != 1:
        raise ValueError(f"reduce_scatter: expected a list of 1 tensor (world size 1), got {len(input_list)}")
    output.copy_(input_list[0])
    return _done(group, async_op)


def all_gather_object(object_list, obj, group=None):
    g = _store_group(group)
    if g:
        g.all_gather_object(object_list, obj)
        return
    if len(object_list) != 1:
        raise ValueError(f"all_gather_object: expected a list of 1 slot (world size 1), got {len(object_list)}")
    object_list[0] = obj


def broadcast_object_list(object_list, src=0, group=None, device=None):
    _check_rank("broadcast_object_list", src, group)
    g = _store_group(group)
    if g:
        g.broadcast_object_list(object_list, src)
