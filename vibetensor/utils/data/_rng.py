"""The random source behind shuffling, random_split and worker seeds."""
import numbers

import numpy as np

# The `generator` arguments take a vibetensor.Generator (its numpy generator draws), an int seed or a
# numpy.random.Generator. With none, a seed is drawn from vibetensor's global generator, so
# vibetensor.manual_seed makes shuffles reproducible as torch.manual_seed does for torch's.


def draw_seed():
    """A fresh seed from vibetensor's global generator."""
    import vibetensor
    return int(vibetensor.randint(0, 2 ** 62, (1,)).item())


def numpy_generator(generator):
    """The numpy Generator that `generator` (None, a vibetensor.Generator, an int seed or a numpy Generator)
    stands for."""
    from vibetensor._generator import Generator
    if generator is None:
        return np.random.default_rng(draw_seed())
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError("generator must be None, a vibetensor.Generator, an int seed or a numpy.random.Generator, but "
                    f"got {type(generator).__name__}")
