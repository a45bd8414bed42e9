"""vibetensor.cuda.random: torch.cuda's seeding functions over vibetensor's one generator.

CPU and CUDA ops draw from the same Philox generator (Note [Philox streams] in csrc/ops/random/philox.h),
so seeding "the CUDA generators" seeds that one generator: torch.cuda.manual_seed_all(s) after
torch.manual_seed(s), as training scripts write it, leaves the state torch.manual_seed(s) alone gives.
As in torch, these work without a GPU (torch defers them until CUDA is initialized).
"""
from vibetensor import random as _random

__all__ = ["manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state", "set_rng_state",
           "get_rng_state_all", "set_rng_state_all"]


def manual_seed(seed) -> None:
    """Seeds the generator shared by every device (torch: the current GPU's)."""
    _random.manual_seed(int(seed))  # int(seed), as torch.cuda does


def manual_seed_all(seed) -> None:
    """Seeds the generator shared by every device (torch: every GPU's)."""
    _random.manual_seed(int(seed))


def seed() -> None:
    """Seeds the shared generator with a non-deterministic number (torch.cuda.seed returns nothing)."""
    _random.seed()


seed_all = seed
initial_seed = _random.initial_seed


def get_rng_state(device="cuda"):
    """The shared generator's state (vibetensor.random.get_rng_state: [seed, offset]; torch: the GPU's)."""
    return _random.get_rng_state()


def set_rng_state(new_state, device="cuda") -> None:
    _random.set_rng_state(new_state)
def get_rng_state_all():
    """One state per GPU, as torch; every GPU shares the one generator, so they are equal."""
    from vibetensor.cuda import device_count
    return [get_rng_state() for _ in range(device_count())]


def set_rng_state_all(new_states) -> None:
    for state in new_states:
        set_rng_state(state)
