"""vibetensor.cuda.random: torch.cuda's seeding functions over vibetensor's one generator.

CPU and CUDA ops draw from the same Philox generator (Note [Philox streams] in csrc/ops/random/philox.h),
so seeding "the CUDA generators" seeds that one generator: torch.cuda.manual_seed_all(s) after
torch.manual_seed(s), as training scripts write it, leaves the state torch.manual_seed(s) alone gives.
As in torch, these work without a GPU (torch defers them until CUDA is initialized).
"""
from vibetensor import _C

__all__ = ["manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed"]


def manual_seed(seed) -> None:
    """Seeds the generator shared by every device (torch: the current GPU's)."""
    _C.manual_seed(int(seed))  # int(seed), as torch.cuda does


def manual_seed_all(seed) -> None:
    """Seeds the generator shared by every device (torch: every GPU's)."""
    _C.manual_seed(int(seed))  # int(seed), as torch.cuda does


def seed() -> None:
    """Seeds the shared generator with a non-deterministic number."""
    import random
    _C.manual_seed(random.SystemRandom().getrandbits(63))


seed_all = seed


def initial_seed() -> int:
    return int(_C.initial_seed())
