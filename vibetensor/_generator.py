"""vibetensor.Generator: a random source of its own, for the generator= arguments (torch.Generator).

vibetensor's random ops draw from its one global Philox generator (Note [Philox streams]); a Generator is
separate from it: a seeded numpy generator whose draws are made on the host and copied to the tensor's
device. Its numbers are not torch's (nor the global generator's); what holds is torch's contract: the same
seed gives the same draws, each draw advances it, and the global generator is left alone.
"""
import random

import numpy as np

from vibetensor import _C

__all__ = ["Generator"]


class Generator:
    def __init__(self, device="cpu"):
        self.device = device if isinstance(device, _C.device) else _C.device(str(device))
        self.manual_seed(67280421310721)  # torch's default seed

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.default_rng(seed & (2 ** 64 - 1))
        return self

    def seed(self):
        """Reseeds with a non-deterministic number and returns it."""
        s = random.SystemRandom().getrandbits(63)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state
        return self

    def __repr__(self):
        return f"<vibetensor.Generator object at {id(self):#x}, seed {self._seed}>"


def numpy_rng(generator, fn):
    """The numpy generator behind `generator`; TypeError naming fn for anything but a Generator."""
    if not isinstance(generator, Generator):
        raise TypeError(f"{fn}(): generator must be a vibetensor.Generator, got {type(generator).__name__}")
    return generator._rng
