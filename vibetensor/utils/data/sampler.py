"""Samplers: the order in which a DataLoader visits a map-style dataset's indices, and their batching."""
import numbers
from typing import Iterator, List, Optional, Sequence

import numpy as np

from vibetensor.utils.data import _rng


class Sampler:
    """An iterable over dataset indices (or over batches of them)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation per epoch, or num_samples draws with replacement. `generator`: None (a seed from
    vibetensor's global generator each epoch), an int seed or a numpy Generator (advancing across epochs)."""

    def __init__(self, data_source, replacement: bool = False, num_samples: Optional[int] = None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if not isinstance(self.num_samples, numbers.Integral) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")
        # An int seed becomes one numpy Generator here, so successive epochs differ as with a torch Generator.
        self.generator = generator if generator is None else _rng.numpy_generator(generator)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        rng = _rng.numpy_generator(self.generator)
        if self.replacement:
            # In chunks: num_samples may be huge (minGPT asks for 1e10 draws).
            for start in range(0, self.num_samples, 32):
                yield from rng.integers(0, n, size=min(32, self.num_samples - start)).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[:self.num_samples % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, without replacement."""

    def __init__(self, indices: Sequence[int], generator=None):
        self.indices = indices
        self.generator = generator if generator is None else _rng.numpy_generator(generator)

    def __iter__(self) -> Iterator[int]:
        for i in _rng.numpy_generator(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices in [0, len(weights)), index i drawn with probability weights[i] / sum(weights); with
    replacement (default) or without (Note [Weighted sampling]). `generator`: as RandomSampler's."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        from vibetensor import _dtype, _factories

        if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights = _factories.as_tensor(weights, dtype=_dtype.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator if generator is None else _rng.numpy_generator(generator)

    def _probabilities(self):
        """The weights on the host, checked as torch's multinomial checks them when the sampler is iterated (its CPU
        messages), scaled by their largest (a sum of huge weights must not overflow)."""
        p = self.weights.cpu().numpy()
        if not self.replacement and self.num_samples > len(p):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        if not np.all(p >= 0):  # (False for NaN, as torch's check)
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if np.any(np.isinf(p)):
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
        if len(p) == 0 or p.max() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        return p / p.max()

    def __iter__(self) -> Iterator[int]:
        p = self._probabilities()
        rng = _rng.numpy_generator(self.generator)
        if not self.replacement:
            keys = p / rng.exponential(size=len(p))  # the exponential race; ties (weight 0) broken at random
            yield from np.lexsort((rng.random(len(p)), -keys))[:self.num_samples].tolist()
            return
        cdf = np.cumsum(p)
        cdf /= cdf[-1]  # the last exactly 1 > u: never an index past the end, never a weight-0 category
        for start in range(0, self.num_samples, _WEIGHTED_CHUNK):
            u = rng.random(min(_WEIGHTED_CHUNK, self.num_samples - start))
            yield from np.searchsorted(cdf, u, side="right").tolist()

    def __len__(self):
        return self.num_samples


# Note [Weighted sampling]
# torch draws WeightedRandomSampler's indices with torch.multinomial. vibetensor's multinomial compares every
# draw with every category (a [num_samples, categories] comparison, Note [Multinomial sampling]), and a sampler
# over a dataset asks for about as many draws as it has samples: quadratic memory. So the sampler draws on
# the host with the same methods and the data package's random source (_rng: a seed from vibetensor's global
# generator when generator is None, so vibetensor.manual_seed makes it reproducible): with replacement, a
# binary search of uniforms in the normalized cumulative weights, in chunks (num_samples may be huge, as
# RandomSampler's); without, the exponential race (the num_samples largest w / q, q exponential). The weights
# are checked when the sampler is iterated, with the messages of torch's CPU multinomial.
_WEIGHTED_CHUNK = 4096


class BatchSampler(Sampler):
    """Lists of batch_size indices from `sampler`; the last, shorter one is dropped if drop_last."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[List[int]]:
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


class _InfiniteConstantSampler(Sampler):
    """None forever: the "indices" of an IterableDataset, which ignores them."""

    def __iter__(self):
        while True:
            yield None
