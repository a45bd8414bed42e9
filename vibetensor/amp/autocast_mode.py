"""``autocast``: a region in which the dispatcher runs matmuls, linear layers and attention in float16 or
bfloat16 and the precision-sensitive ops (softmax, norms, losses, exp, log, pow, sum) in float32, as
torch.autocast does. The state lives in C++ per thread (Note [Autocast] in csrc/dispatch/autocast.h);
this class saves it on entry and restores it on exit, so regions nest and ``enabled=False`` opens a
full-precision hole inside one."""
import functools

from vibetensor import _C, _dtype

_DEVICE_TYPES = ("cuda", "cpu")
_DEFAULT_DTYPE = {"cuda": _dtype.float16, "cpu": _dtype.bfloat16}
_LOWER = (_dtype.float16, _dtype.bfloat16)


def _check_device_type(device_type):
    if device_type not in _DEVICE_TYPES:
        raise ValueError(f"autocast: device_type must be 'cuda' or 'cpu', got {device_type!r}")


def is_autocast_available(device_type):
    return device_type in _DEVICE_TYPES


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for `device_type` ("cuda" when not given, as torch.is_autocast_enabled())."""
    cuda_on, _, cpu_on, _ = _C._autocast_state()
    device_type = device_type or "cuda"
    _check_device_type(device_type)
    return cuda_on if device_type == "cuda" else cpu_on


def get_autocast_dtype(device_type):
    _check_device_type(device_type)
    _, cuda_dtype, _, cpu_dtype = _C._autocast_state()
    return cuda_dtype if device_type == "cuda" else cpu_dtype


class autocast:
    """``with vt.autocast("cuda", dtype=vt.bfloat16): loss = model(x)``; also a decorator.

    device_type: "cuda" or "cpu"; dtype: float16 or bfloat16 (default float16 on CUDA, bfloat16 on the
    CPU, as torch); any other dtype raises ValueError. cache_enabled is accepted for torch's signature
    (vibetensor casts per call and keeps no weight cache)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: device_type must be a string ('cuda' or 'cpu'), got {type(device_type).__name__}")
        _check_device_type(device_type)
        dtype = _DEFAULT_DTYPE[device_type] if dtype is None else dtype
        if dtype not in _LOWER:
            raise ValueError(f"autocast: dtype {dtype} is not supported on {device_type}; expected vibetensor.float16 "
                             "or vibetensor.bfloat16")
        self.device_type, self.fast_dtype, self._enabled = device_type, dtype, bool(enabled)
        self._saved = []

    def __enter__(self):
        state = _C._autocast_state()
        self._saved.append(state)
        cuda_on, cuda_dtype, cpu_on, cpu_dtype = state
        if self.device_type == "cuda":
            cuda_on, cuda_dtype = self._enabled, (self.fast_dtype if self._enabled else cuda_dtype)
        else:
            cpu_on, cpu_dtype = self._enabled, (self.fast_dtype if self._enabled else cpu_dtype)
        _C._set_autocast_state(cuda_on, cuda_dtype, cpu_on, cpu_dtype)
        return self

    def __exit__(self, *exc):
        _C._set_autocast_state(*self._saved.pop())
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.device_type, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)

        return wrapper
