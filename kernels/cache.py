"""Kernel caches for Python-launched kernels, with the two mechanisms of the ``kernels.cache`` policy.

A cache maps a specialization key (kernel name, dtypes, constexprs, block sizes, device) to a
launcher built by the cache's compile function on the first launch of that key. The policy is read
at every launch (see Note [Kernel cache mechanisms]):

- ``lockfree`` (tuned): a dict read; a miss compiles under a lock of that key only, so two threads
  never compile the same kernel twice and launches of other keys never wait;
- ``locked`` (vibe): lookup, compile-on-miss and launch all run under one module-global lock, as
  VibeTensor's Python kernel caches do.

The module-global lock is an instrumented runtime mutex named ``"kernels.cache"``: with
``probes.locks=on`` its acquisitions, contentions, wait and hold times are in ``vt.probes.locks()``.
With ``probes.counters=on`` launches count ``kernel_cache_hits`` or ``kernel_cache_misses`` and
compiles ``kernel_compiles`` in ``vt.probes.counters()``.
"""
import threading

from vibetensor import _C

LOCK_NAME = "kernels.cache"

# Note [Kernel cache mechanisms]
# Both mechanisms are real and share the compile path: the per-key lock is taken on a miss under
# either policy, so `locked` differs from `lockfree` only by the global lock around the whole
# lookup + launch (the serialization point being studied), not by a different compile protocol.
# The global lock releases the GIL while it waits (it is a C++ mutex), so a thread holding it can
# run Python. It is not re-entrant: a launcher or compile function that launches through a cache
# under `locked` would deadlock, so that is detected and raised instead.
_global_lock = _C._InstrumentedLock(LOCK_NAME)
_locked = _C._kernels_cache_locked
_count = _C._count


class KernelCache:
    """Specialization key -> launcher, filled on demand by ``compile_fn``.

    ``compile_fn(key, *args, **kwargs)`` builds the launcher of ``key`` (it may compile a kernel
    and may use the first launch's arguments to do so); the launcher is then called as
    ``launcher(*args, **kwargs)`` for this and every later launch of ``key``. Keys must be hashable.
    """

    def __init__(self, name, compile_fn):
        if not callable(compile_fn):
            raise TypeError(f"KernelCache({name!r}): compile_fn must be callable, got {type(compile_fn).__name__}")
        self.name = name
        self._compile_fn = compile_fn
        self._launchers = {}
        self._compile_locks = {}

    def __len__(self):
        return len(self._launchers)

    def __contains__(self, key):
        return key in self._launchers

    def keys(self):
        return list(self._launchers)

    def clear(self):
        """Forgets every launcher (the next launch of each key compiles again)."""
        self._launchers.clear()

    def launch(self, key, *args, **kwargs):
        """Runs the launcher of ``key`` on the arguments, compiling it first on a miss."""
        if not _locked():
            return self._launcher(key, args, kwargs)(*args, **kwargs)
        if _global_lock.held_by_me():
            raise RuntimeError(f"kernel cache {self.name!r}: launch of {key!r} from inside a launch or compile under "
                               "kernels.cache=locked (the module-global lock is not re-entrant)")
        with _global_lock:
            return self._launcher(key, args, kwargs)(*args, **kwargs)

    def _launcher(self, key, args, kwargs):
        launcher = self._launchers.get(key)
        if launcher is None:
            return self._miss(key, args, kwargs)
        _count("kernel_cache_hits")
        return launcher

    def _miss(self, key, args, kwargs):
        _count("kernel_cache_misses")
        # dict.setdefault is atomic, so every thread missing on `key` gets the same lock.
        with self._compile_locks.setdefault(key, threading.Lock()):
            launcher = self._launchers.get(key)
            if launcher is None:  # no other thread compiled it while we waited
                _count("kernel_compiles")
                launcher = self._compile_fn(key, *args, **kwargs)
                if not callable(launcher):
                    raise TypeError(f"kernel cache {self.name!r}: compile_fn returned {type(launcher).__name__} for "
                                    f"{key!r}, expected a callable launcher")
                self._launchers[key] = launcher
        return launcher
