"""torch.autograd.detect_anomaly and set_detect_anomaly over the engine's nan check (Note [Anomaly detection] in
csrc/autograd/engine.h)."""
import warnings

from vibetensor import _C

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled() -> bool:
    return _C._anomaly_enabled()


def is_anomaly_check_nan_enabled() -> bool:
    return _C._anomaly_check_nan()


class detect_anomaly:
    """Context manager (or decorator) that turns anomaly detection on inside it: a backward raises at the
    first node whose gradient has a nan, naming the node."""

    def __init__(self, check_nan=True):
        self.prev, self.prev_check_nan = is_anomaly_enabled(), is_anomaly_check_nan_enabled()
        self.check_nan = bool(check_nan)
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self):
        _C._set_anomaly_mode(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        _C._set_anomaly_mode(self.prev, self.prev_check_nan)
        return False

    def __call__(self, fn):
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapped


class set_detect_anomaly:
    """set_detect_anomaly(mode, check_nan=True): sets the mode at once (a function call), or for a `with` block,
    restoring the previous one on exit."""

    def __init__(self, mode, check_nan=True):
        if not isinstance(mode, bool):
            raise TypeError(f"set_detect_anomaly: mode must be a bool, got {type(mode).__name__}")
        self.prev, self.prev_check_nan = is_anomaly_enabled(), is_anomaly_check_nan_enabled()
        _C._set_anomaly_mode(mode, bool(check_nan))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _C._set_anomaly_mode(self.prev, self.prev_check_nan)
        return False
