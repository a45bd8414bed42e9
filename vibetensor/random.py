"""vibetensor.random: torch.random's functions over vibetensor's one generator.

CPU and CUDA ops draw from one Philox generator, a (seed, offset) pair (Note [Philox streams] in
csrc/ops/random/philox.h). Its state is therefore two numbers, and get_rng_state returns them as an int64 tensor
of two elements, where torch returns the 5056 bytes of its Mersenne Twister as a uint8 tensor (vibetensor has no
uint8). A script that saves the state and restores it later, the way checkpointing scripts use it, works
unchanged; a state from torch itself is refused with a clear error.
"""
import contextlib
import random as _py_random

from vibetensor import _C

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"]


def manual_seed(seed):
    """Seeds the generator shared by every device."""
    _C.manual_seed(seed.__index__())


def seed() -> int:
    """Seeds the generator with a non-deterministic number and returns it (torch.seed)."""
    s = _py_random.SystemRandom().getrandbits(63)
    _C.manual_seed(s)
    return s


def initial_seed() -> int:
    return int(_C.initial_seed())


def get_rng_state():
    """The generator's state: an int64 CPU tensor [seed, offset], for set_rng_state."""
    from vibetensor._factories import tensor
    from vibetensor._dtype import int64

    return tensor(list(_C._rng_state()), dtype=int64)


def set_rng_state(new_state) -> None:
    """Restores a state from get_rng_state: the draws that followed it follow again."""
    from vibetensor._dtype import int64

    if not isinstance(new_state, _C.Tensor):
        raise TypeError(f"set_rng_state: expected the tensor get_rng_state returned, got {type(new_state).__name__}")
    if new_state.dtype != int64 or tuple(new_state.shape) != (2,):
        raise ValueError(f"set_rng_state: expected the int64 tensor of 2 elements (seed, offset) that vibetensor's "
                         f"get_rng_state returns, got a {new_state.dtype} tensor of shape {tuple(new_state.shape)} "
                         "(a state saved by torch itself does not fit vibetensor's Philox generator)")
    s, o = (int(v) for v in new_state.detach().cpu().tolist())
    _C._set_rng_state(s, o)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
    """Restores the generator's state on exit: draws made inside the block leave the ones after it unchanged.
    Every device shares the one generator, so `devices` changes nothing."""
    if not enabled:
        yield
        return
    state = _C._rng_state()
    try:
        yield
    finally:
        _C._set_rng_state(*state)
