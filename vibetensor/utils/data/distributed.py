"""torch.utils.data.distributed.DistributedSampler: each rank's share of a map-style dataset's indices, one
epoch's shuffle common to every rank."""
import math
import numbers
from typing import Iterator

from vibetensor.utils.data import _rng
from vibetensor.utils.data.sampler import Sampler

__all__ = ["DistributedSampler"]

# Note [Distributed sampler]
# Every rank shuffles the whole dataset with a generator seeded by seed + epoch only, so all ranks hold the
# same permutation, pad it (by repeating its head) to total_size = num_samples * num_replicas (or, with
# drop_last, cut it to that), and take every num_replicas-th index from their rank on: the ranks' shares
# are disjoint positions of one list, together the whole dataset (plus the padding). set_epoch(e) before each
# epoch gives a new permutation; without it every epoch repeats the first one, as in torch. The permutation
# is drawn from a vibetensor.Generator (numpy's PCG64), so it is not torch's randperm; the layout is.


class DistributedSampler(Sampler):
    """Indices rank, rank + num_replicas, ... of the (shuffled, padded) dataset (Note [Distributed sampler]).
    num_replicas and rank default to the default process group's world size and rank."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False):
        if num_replicas is None or rank is None:
            from vibetensor import distributed  # the process group (raises torch's error when not initialized)

            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if not isinstance(num_replicas, numbers.Integral) or isinstance(num_replicas, bool) or num_replicas <= 0:
            raise ValueError(f"num_replicas should be a positive integer value, but got num_replicas={num_replicas}")
        if not isinstance(rank, numbers.Integral) or isinstance(rank, bool) or rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
            raise TypeError(f"seed should be an integer, but got seed={seed!r}")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % self.num_replicas != 0:
            # the tail is dropped so that every rank gets the same number of samples without padding
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = int(seed)

    def _epoch_order(self, n):
        if not self.shuffle:
            return list(range(n))
        from vibetensor._generator import Generator

        return _rng.numpy_generator(Generator().manual_seed(self.seed + self.epoch)).permutation(n).tolist()

    def __iter__(self) -> Iterator[int]:
        indices = self._epoch_order(len(self.dataset))
        if self.drop_last:
            indices = indices[:self.total_size]
        elif indices:
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / len(indices)))[:padding]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose permutation the next iteration draws (call it before each epoch's DataLoader loop)."""
        self.epoch = epoch
