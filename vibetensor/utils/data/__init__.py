"""torch.utils.data's public API: datasets, samplers, collation and the DataLoader (with worker processes)."""
from vibetensor.utils.data.collate import default_collate, default_convert
from vibetensor.utils.data.dataloader import DataLoader
from vibetensor.utils.data.distributed import DistributedSampler
from vibetensor.utils.data.dataset import (
    ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split)
from vibetensor.utils.data.sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler)
from vibetensor.utils.data.worker import get_worker_info

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset", "RandomSampler",
    "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "default_collate", "default_convert", "get_worker_info", "random_split"]
