"""A system library loaded with ctypes at its first use (the CUDA driver, NVML): the build never links it, and
where it is missing or fails to initialize its users get the reason instead of an exception at import."""
import ctypes
import threading


class SharedLibrary:
    """get() returns the library, loaded and initialized once (thread-safe), or None; reason says why not.
    init(lib) returns None, or the message of its failure."""

    def __init__(self, soname, what, init):
        self.soname, self.what, self._init = soname, what, init
        self._lib, self.reason = None, None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._lib is None and self.reason is None:
                try:
                    lib = ctypes.CDLL(self.soname)
                except OSError as e:
                    self.reason = f"{self.what} ({self.soname}) could not be loaded ({e})"
                    return None
                self.reason = self._init(lib)
                if self.reason is None:
                    self._lib = lib
        return self._lib
