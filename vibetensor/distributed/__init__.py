"""vibetensor.distributed: torch.distributed with one process, so scripts written for DDP run as one rank.

Note [One-process distributed]
vibetensor has no communication backend. What it has is the world of one process that torch.distributed
describes when a script runs without a launcher: is_initialized() is False until init_process_group, and
every call that needs the default group raises torch's ValueError. init_process_group accepts a world of
one (world_size and rank from the arguments, else WORLD_SIZE / RANK from the environment, else 1 and 0)
and refuses more ranks with one message; in a world of one every collective leaves its tensors as they
are (an all_reduce of one rank is its own tensor), so a script's rank-0 logging, barriers and gradient
averaging do what they would do in torch with world_size=1. is_available() is True, as for torch's
Linux builds: the package is importable and its one-process form works.
"""
import os
import threading

__all__ = ["is_available", "is_initialized", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "get_backend", "barrier", "all_reduce", "reduce", "broadcast", "all_gather",
           "gather", "scatter", "reduce_scatter", "all_gather_object", "broadcast_object_list", "new_group",
           "ReduceOp", "Backend", "GroupMember", "is_torchelastic_launched"]

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


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return GroupMember.WORLD is not None


def is_torchelastic_launched() -> bool:
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def _env_int(name, given, default):
    if given is not None and given != -1:
        return int(given)
    value = os.environ.get(name)
    return default if value is None else int(value)


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Initializes the default group; vibetensor's is the world of one process (Note [One-process distributed])."""
    size = _env_int("WORLD_SIZE", world_size, 1)
    me = _env_int("RANK", rank, 0)
    if size != 1 or me != 0:
        raise RuntimeError(f"init_process_group: vibetensor runs one process (world_size=1, rank=0), got "
                           f"world_size={size}, rank={me}; launch the script without torchrun / several ranks")
    with _lock:
        if GroupMember.WORLD is not None:
            raise ValueError("trying to initialize the default process group twice!")
        GroupMember.WORLD = ProcessGroup(backend or "gloo")


def destroy_process_group(group=None) -> None:
    with _lock:
        _default_group()
        GroupMember.WORLD = None


def _default_group(group=None) -> ProcessGroup:
    world = GroupMember.WORLD
    if world is None:
        raise ValueError(_NOT_INITIALIZED)
    return world if group is None else group


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None):
    world = _default_group()
    if ranks is not None and sorted(ranks) != [0]:
        raise ValueError(f"new_group: ranks {list(ranks)} are not all in the world of one process (rank 0)")
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


def barrier(group=None, async_op=False, device_ids=None):
    return _done(group, async_op)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """One rank: the reduction of the tensor with itself alone is the tensor (AVG too)."""
    return _done(group, async_op)


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False):
    return _done(group, async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    return _done(group, async_op)


def _copy_into(outputs, tensor, what):
    if len(outputs) != 1:
        raise ValueError(f"{what}: expected a list of 1 tensor (world size 1), got {len(outputs)}")
    outputs[0].copy_(tensor)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    _default_group(group)
    _copy_into(tensor_list, tensor, "all_gather")
    return _done(group, async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    _default_group(group)
    if gather_list is not None:
        _copy_into(gather_list, tensor, "gather")
    return _done(group, async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    _default_group(group)
    if scatter_list is not None:
        if len(scatter_list) != 1:
            raise ValueError(f"scatter: expected a list of 1 tensor (world size 1), got {len(scatter_list)}")
        tensor.copy_(scatter_list[0])
    return _done(group, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    _default_group(group)
    if len(input_list) != 1:
        raise ValueError(f"reduce_scatter: expected a list of 1 tensor (world size 1), got {len(input_list)}")
    output.copy_(input_list[0])
    return _done(group, async_op)


def all_gather_object(object_list, obj, group=None):
    _default_group(group)
    if len(object_list) != 1:
        raise ValueError(f"all_gather_object: expected a list of 1 slot (world size 1), got {len(object_list)}")
    object_list[0] = obj


def broadcast_object_list(object_list, src=0, group=None, device=None):
    _default_group(group)
