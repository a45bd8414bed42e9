"""K long-lived Python threads, each owning one replica, driven one step at a time: the training
threads of a concurrent workload (seq_reverse_sweep). See Note [Replica threads]."""
import queue
import threading
import time

# Note [Replica threads]
# Users who train several models in one process (a hyper-parameter sweep, an ensemble) start one
# thread per model and let each train; the threads then meet on the framework's process-wide locks
# (an autograd gate, the GIL held through backward, an allocator lock). The runner times a step from
# the calling thread, so here a step is one job per thread: `run` hands thread i its argument, waits
# for all K results and returns them in replica order. Threads live as long as the workload (a thread
# started per step would add its own cost, which is what autograd.workers=spawn measures) and start
# each job at a barrier, so every step begins with all K replicas contending, as free-running threads
# of equal work do. Every job carries its step number; a result of an earlier step (left behind when
# an interrupted `run` stopped waiting) is dropped, never returned as this step's. `close` ends and
# joins the threads; they are daemons only so that a workload nobody closes cannot keep the process
# alive at exit.


class ReplicaThreads:
    """`work(i, arg)` runs on thread i for each step; `setup(i)`, if given, once on thread i first
    (per-thread state such as the CPU kernel team size)."""

    def __init__(self, k: int, work, setup=None, name: str = "replica"):
        if k < 1:
            raise ValueError(f"need at least one replica thread, got {k}")
        self.k, self._work, self._setup = k, work, setup
        self._barrier = threading.Barrier(k)
        self._inbox = [queue.SimpleQueue() for _ in range(k)]
        self._done = queue.SimpleQueue()
        self._step = 0
        self._lock = threading.Lock()  # one run() or close() at a time
        self._closed = False
        self.steps_done = [0] * k      # per thread: jobs finished (read by tests and probes)
        self.spans = [(0.0, 0.0)] * k  # per thread, the last job: (entered, finished) perf_counter s
        self.threads = [threading.Thread(target=self._loop, args=(i,), name=f"{name}-{i}", daemon=True)
                        for i in range(k)]
        for t in self.threads:
            t.start()

    def _loop(self, i: int):
        setup_error = None
        if self._setup is not None:
            try:
                self._setup(i)
            except BaseException as e:  # noqa: BLE001 (reported with every job of this thread)
                setup_error = e
        while True:
            job = self._inbox[i].get()
            if job is None:
                return
            step, arg = job
            entered = time.perf_counter()
            try:
                self._barrier.wait()
                if setup_error is not None:
                    raise setup_error
                result, error = self._work(i, arg), None
            except BaseException as e:  # noqa: BLE001 (re-raised by run() on the calling thread)
                result, error = None, e
            self.spans[i] = (entered, time.perf_counter())
            self.steps_done[i] += 1
            self._done.put((step, i, result, error))

    def run(self, args: list) -> list:
        """One step: thread i runs work(i, args[i]); returns the K results in order, or raises the
        first replica's error after every thread finished the step."""
        if len(args) != self.k:
            raise ValueError(f"expected {self.k} arguments (one per replica thread), got {len(args)}")
        with self._lock:
            if self._closed:
                raise RuntimeError("the replica threads were closed")
            self._step += 1
            step = self._step
            for inbox, arg in zip(self._inbox, args):
                inbox.put((step, arg))
            results, errors, pending = [None] * self.k, [None] * self.k, self.k
            while pending:
                s, i, result, error = self._done.get()
                if s != step:
                    continue  # a stale result (Note [Replica threads])
                results[i], errors[i], pending = result, error, pending - 1
        for e in errors:
            if e is not None:
                raise e
        return results

    def close(self):
        """Ends the threads after their current job and joins them; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for inbox in self._inbox:
                inbox.put(None)
        for t in self.threads:
            t.join()
