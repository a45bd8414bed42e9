"""The DataLoader's worker processes: the loop each runs, what crosses the process boundary, get_worker_info."""
import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from vibetensor.utils.data.fetch import create_fetcher

# Note [DataLoader workers]
# num_workers > 0 starts that many processes (multiprocessing's 'fork' context on Linux, so the dataset and
# collate_fn need not pickle; 'spawn' elsewhere). Each worker has its own index queue; all share one result
# queue. The main process hands out (task id, batch indices) round-robin, keeping prefetch_factor tasks per
# worker in flight, and returns results by task id, so batches come in sampler order whichever worker is first.
# - Tensors do not cross as tensors: vibetensor tensors do not pickle, so a worker collates as usual and then
#   swaps every tensor in the batch (through dicts, lists, tuples, namedtuples) for a _WireTensor (a numpy copy
#   and the dtype); the main process swaps them back. Tensors inside other objects are not reached and fail to
#   pickle, with pickle's error.
# - A worker that raises sends an ExceptionWrapper (the exception type and the worker's formatted traceback);
#   the main process shuts every worker down and raises the same type with that text in the message.
# - No hang: the main process waits on the result queue in short slices, checking that the workers live
#   (a dead one raises) and the DataLoader's timeout (RuntimeError when passed). Workers poll their index
#   queue likewise and exit when the main process is gone.
# - Shutdown (exhaustion, an error, or the iterator's garbage collection): a None on every index queue, a join
#   with a grace period, then terminate.
# - Each worker runs the kernels single-threaded (OpenMP's thread pool does not survive fork; torch does the
#   same) and is seeded base_seed + worker_id (Python's random and vibetensor's generator), base_seed drawn
#   per iterator from the DataLoader's generator; an iterator without workers draws it too, as torch's does,
#   so what the random stream gives after it does not depend on num_workers.

POLL_INTERVAL = 1.0  # seconds between liveness checks while waiting on a queue


@dataclass
class WorkerInfo:
    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: Optional[WorkerInfo] = None


def get_worker_info() -> Optional[WorkerInfo]:
    """In a DataLoader worker: its id, num_workers, seed and dataset copy; None in the main process."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process as its type and traceback text."""

    def __init__(self, where: str):
        exc_type, exc, _ = sys.exc_info()
        self.exc_type = exc_type
        self.msg = f"Caught {exc_type.__name__} {where}.\nOriginal " + "".join(traceback.format_exception(exc))

    def reraise(self):
        msg = repr(self.msg) if self.exc_type is KeyError else self.msg  # KeyError shows its argument's repr
        try:
            exception = self.exc_type(msg)
        except Exception:  # a type whose constructor wants other arguments
            raise RuntimeError(msg) from None
        raise exception


@dataclass(frozen=True)
class IterableDatasetStopIteration:
    """A worker's IterableDataset copy is exhausted."""
    worker_id: int


@dataclass
class _WireTensor:
    array: np.ndarray
    dtype: str


def to_wire(data):
    """`data` with every tensor (through dicts, lists, tuples, namedtuples) replaced by a picklable _WireTensor."""
    import vibetensor
    if isinstance(data, vibetensor.Tensor):
        # A copy: the queue pickles in a background thread, when the tensor may be gone.
        return _WireTensor(np.array(vibetensor._interop.host_values(data.detach()), copy=True), str(data.dtype))
    return _map_containers(data, to_wire)


def from_wire(data):
    """to_wire's inverse, in the main process."""
    import vibetensor
    if isinstance(data, _WireTensor):
        t = vibetensor.from_numpy(data.array)
        dtype = getattr(vibetensor, data.dtype.rpartition(".")[2])
        return t if t.dtype is dtype else t.to(dtype)  # bfloat16 travels as float32
    return _map_containers(data, from_wire)


def _map_containers(data, fn):
    if isinstance(data, dict):
        items = {k: fn(v) for k, v in data.items()}
        return items if type(data) is dict else type(data)(items)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(fn(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(fn(d) for d in data)
    return data


def worker_loop(is_iterable, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn, drop_last,
                seed, init_fn, worker_id, num_workers, parent_pid):
    """A worker's life: seed, run worker_init_fn, then fetch each (task id, indices) until None arrives."""
    global _worker_info
    import vibetensor
    try:
        vibetensor.set_num_threads(1)
        random.seed(seed)
        vibetensor.manual_seed(seed & (2 ** 63 - 1))
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        exhausted = False
        while True:
            try:
                task = index_queue.get(timeout=POLL_INTERVAL)
            except queue.Empty:
                if done_event.is_set() or os.getppid() != parent_pid:
                    return
                continue
            if task is None:
                return
            if done_event.is_set() or exhausted:
                continue  # drain until the None
            task_id, index = task
            if init_error is not None:
                data = init_error
            else:
                try:
                    data = to_wire(fetcher.fetch(index))
                except StopIteration:
                    if not is_iterable:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
                    else:
                        data, exhausted = IterableDatasetStopIteration(worker_id), True
                except Exception:
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            data_queue.put((task_id, data))
            del data
    except KeyboardInterrupt:
        pass
