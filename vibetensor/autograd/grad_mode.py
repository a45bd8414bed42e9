"""no_grad / enable_grad / set_grad_enabled / inference_mode: context managers and decorators.

Grad mode lives in a C++ thread_local (csrc/core/grad_mode.h), so it is per thread as in torch:
a new thread starts with grad enabled whatever its parent's mode.
"""
import functools
import inspect

from vibetensor import _C

is_grad_enabled = _C.is_grad_enabled


class _GradModeContext:
    """Sets grad mode to `self._mode` inside a with-block; usable as a decorator.

    A decorated function gets a fresh context per call, so one decorated function can run in
    several threads (or recursively) without the contexts sharing a saved previous mode.
    """

    _mode = False

    def __new__(cls, orig_func=None):
        # @no_grad without parentheses, as torch allows.
        if orig_func is not None and callable(orig_func) and cls in (no_grad, enable_grad):
            return cls()(orig_func)
        return super().__new__(cls)

    def __init__(self, orig_func=None):
        self._prev = []

    def __enter__(self):
        self._prev.append(_C.is_grad_enabled())
        _C._set_grad_enabled(self._mode)
        return self

    def __exit__(self, exc_type, exc, tb):
        _C._set_grad_enabled(self._prev.pop())
        return False

    def _fresh(self):
        return type(self)()

    def __call__(self, func):
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                # Each resumption of the generator runs under the mode, not only its creation.
                gen = func(*args, **kwargs)
                response = None
                while True:
                    with self._fresh():
                        try:
                            request = gen.send(response)
                        except StopIteration as stop:
                            return stop.value
                    response = yield request
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Disables gradient recording in the current thread: results of ops have no grad_fn."""

    _mode = False


class enable_grad(_GradModeContext):
    """Enables gradient recording in the current thread (e.g. inside a no_grad block)."""

    _mode = True


class inference_mode(_GradModeContext):
    """torch.inference_mode(mode=True): in vibetensor the same as no_grad (mode=False: no change)."""

    def __new__(cls, mode=True):
        if callable(mode):  # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        super().__init__()
        self._enabled = mode
        self._mode = not mode

    def __enter__(self):
        if not self._enabled:
            self._prev.append(_C.is_grad_enabled())
            return self
        return super().__enter__()

    def _fresh(self):
        return type(self)(self._enabled)


class set_grad_enabled(_GradModeContext):
    """set_grad_enabled(mode): sets grad mode on construction (so it also works as a plain call),
    restores the previous mode when used as a context manager and leaving the with-block."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        if not isinstance(mode, type(True)):
            raise TypeError(f"set_grad_enabled(): mode must be a bool, got {mode!r} ({type(mode).__name__})")
        self._prev = [_C.is_grad_enabled()]
        self._mode = mode
        _C._set_grad_enabled(mode)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        _C._set_grad_enabled(self._prev[0])
        return False

    def __call__(self, func):
        # As a decorator the construction must not change the caller's mode.
        _C._set_grad_enabled(self._prev[0])
        return super().__call__(func)

    def _fresh(self):
        return _SetGradEnabledScope(self._mode)


class _SetGradEnabledScope(_GradModeContext):
    """The per-call context of a @set_grad_enabled(mode)-decorated function."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        super().__init__()
        self._mode = mode
