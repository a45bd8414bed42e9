"""DataLoader: batches from a dataset through a sampler and a collate function, in this process or in workers."""
import itertools
import multiprocessing
import os
import queue
import time

from vibetensor.utils.data import _rng
from vibetensor.utils.data.collate import default_collate, default_convert
from vibetensor.utils.data.dataset import IterableDataset
from vibetensor.utils.data.fetch import create_fetcher
from vibetensor.utils.data.sampler import (
    BatchSampler, RandomSampler, SequentialSampler, _InfiniteConstantSampler)
from vibetensor.utils.data import worker as _worker


class DataLoader:
    """torch.utils.data.DataLoader's arguments and behaviour. pin_memory is accepted and does nothing (batches
    are host tensors either way); `generator` is None, an int seed or a numpy Generator; persistent_workers=True
    is not supported. Worker processes: Note [DataLoader workers] in worker.py."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. Let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor <= 0:
            raise ValueError(f"prefetch_factor option should be a positive integer, but got {prefetch_factor}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if persistent_workers:
            raise NotImplementedError("persistent_workers=True is not supported by vibetensor's DataLoader: workers "
                                      "are started for each epoch; pass persistent_workers=False")

        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            # The stream decides the order: nothing to sample or shuffle.
            for name, value in (("shuffle", shuffle or None), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value is not None:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, but got "
                                     f"{name}={value}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.persistent_workers = persistent_workers
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return _MultiProcessIter(self)

    def __len__(self):
        if self._is_iterable:
            length = len(self.dataset)  # a TypeError if the stream has no length, as in torch
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)


def _draw_base_seed(loader) -> int:
    """The iterator's worker base seed. Every iterator draws it, with workers or without, as torch's
    _BaseDataLoaderIter does: the draws of the random source then do not depend on num_workers (a shuffle
    drawn after it is the same with 0 workers and with 4)."""
    if loader.generator is not None:
        return int(_rng.numpy_generator(loader.generator).integers(0, 2 ** 62))
    return _rng.draw_seed()


class _SingleProcessIter:
    def __init__(self, loader):
        self._sampler_iter = iter(loader._index_sampler)
        _draw_base_seed(loader)  # unused without workers; drawn so the random stream matches theirs
        self._fetcher = create_fetcher(loader._is_iterable, loader.dataset, loader._auto_collation,
                                       loader.collate_fn, loader.drop_last)

    def __iter__(self):
        return self

    def __next__(self):
        return self._fetcher.fetch(next(self._sampler_iter))


def _context(name):
    if name is None:
        name = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(name) if isinstance(name, str) else name


class _MultiProcessIter:
    """Batches from worker processes, in sampler order (Note [DataLoader workers])."""

    def __init__(self, loader):
        self._timeout = loader.timeout
        self._sampler_iter = iter(loader._index_sampler)
        ctx = _context(loader.multiprocessing_context)
        n = loader.num_workers
        base_seed = _draw_base_seed(loader)
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues, self._workers = [], []
        self._shut_down = False
        for worker_id in range(n):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()  # never block shutdown on undelivered indices
            w = ctx.Process(target=_worker.worker_loop, daemon=True, args=(
                loader._is_iterable, loader.dataset, index_queue, self._result_queue, self._done_event,
                loader._auto_collation, loader.collate_fn, loader.drop_last, int(base_seed) + worker_id,
                loader.worker_init_fn, worker_id, n, os.getpid()))
            w.start()
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._active = [True] * n
        self._next_worker = itertools.cycle(range(n))
        self._send_idx = 0  # next task id to hand out
        self._rcvd_idx = 0  # next task id to return
        self._tasks = {}  # task id -> (worker id,) while outstanding, (worker id, data) once arrived early
        for _ in range(loader.prefetch_factor * n):
            self._put_task()

    def __iter__(self):
        return self

    def _put_task(self):
        if not any(self._active):
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        worker_id = next(w for w in self._next_worker if self._active[w])
        self._index_queues[worker_id].put((self._send_idx, index))
        self._tasks[self._send_idx] = (worker_id,)
        self._send_idx += 1

    def __next__(self):
        while True:
            # Skip the tasks of workers whose stream ended: they will never answer them.
            while self._rcvd_idx < self._send_idx:
                task = self._tasks[self._rcvd_idx]
                if len(task) == 2 or self._active[task[0]]:
                    break
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                self._shutdown()
                raise StopIteration
            task = self._tasks[self._rcvd_idx]
            if len(task) == 2:
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(task[1])
            task_id, data = self._get()
            if isinstance(data, _worker.IterableDatasetStopIteration):
                self._active[data.worker_id] = False
                self._put_task()
                continue
            if task_id != self._rcvd_idx:
                self._tasks[task_id] += (data,)
                continue
            del self._tasks[task_id]
            self._rcvd_idx += 1
            return self._process(data)

    def _get(self):
        """The next (task id, data) from any worker; raises rather than waits forever."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _worker.POLL_INTERVAL if deadline is None else min(_worker.POLL_INTERVAL,
                                                                      max(0.0, deadline - time.monotonic()))
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                pass
            dead = [w.pid for w, active in zip(self._workers, self._active) if active and not w.is_alive()]
            if dead:
                self._shutdown()
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited unexpectedly")
            if deadline is not None and time.monotonic() >= deadline:
                self._shutdown(grace=0.0)  # the workers are stuck: waiting for them is no use
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _process(self, data):
        self._put_task()
        if isinstance(data, _worker.ExceptionWrapper):
            self._shutdown()
            data.reraise()
        return _worker.from_wire(data)

    def _shutdown(self, grace=2 * _worker.POLL_INTERVAL):
        if self._shut_down:
            return
        self._shut_down = True
        self._done_event.set()
        for q in self._index_queues:
            q.put(None)
        # A grace period for all of them together; a worker stuck in a slow __getitem__ is terminated.
        deadline = time.monotonic() + grace
        for w in self._workers:
            w.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.is_alive():
                w.terminate()
                w.join()
        for q in (*self._index_queues, self._result_queue):
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        if getattr(self, "_workers", None) is not None:
            self._shutdown()
