"""vibetensor.nn.parallel: torch.nn.parallel's wrappers with one process and one device."""
from vibetensor.nn.parallel.data_parallel import DataParallel
from vibetensor.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
