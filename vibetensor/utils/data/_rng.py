"""The random source behind shuffling, random_split and worker seeds."""
import numbers

import numpy as np

# vibetensor has no Generator object (its factories refuse generator=), so the `generator` arguments take an
# int seed or a numpy.random.Generator. With none, a seed is drawn from vibetensor's global generator, so
# vibetensor.manual_seed makes shuffles reproducible as torch.manual_seed does for torch's.


def draw_seed():
    """A fresh seed from vibetensor's global generator."""
    import vibetensor
    return int(vibetensor.randint(0, 2 ** 62, (1,)).item())


def numpy_generator(generator):
    """The numpy Generator that `generator` (None, an int seed or a numpy Generator) stands for."""
    if generator is None:
        return np.random.default_rng(draw_seed())
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError("generator must be None, an int seed or a numpy.random.Generator (vibetensor has no "
                    f"Generator class), but got {type(generator).__name__}")
