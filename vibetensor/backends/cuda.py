"""vibetensor.backends.cuda: ``matmul.allow_tf32`` as in torch.backends.cuda (Note [TF32 matmul]).

The switch lives in C++ (an atomic read by every CUDA matmul); in a build without CUDA it is a
plain attribute with no effect.
"""
from vibetensor import _C

_cuda = _C._cuda


class _MatmulSettings:
    """``vibetensor.backends.cuda.matmul.allow_tf32``: float32 CUDA matmuls may use TF32 tensor cores."""

    __slots__ = ("_fallback",)

    def __init__(self):
        self._fallback = False

    @property
    def allow_tf32(self) -> bool:
        if hasattr(_cuda, "get_allow_tf32"):
            return bool(_cuda.get_allow_tf32())
        return self._fallback

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"allow_tf32 expects a bool, got {type(value).__name__}")
        if hasattr(_cuda, "set_allow_tf32"):
            _cuda.set_allow_tf32(value)
        else:
            self._fallback = value


matmul = _MatmulSettings()


def is_built() -> bool:
    return bool(_cuda.is_built())
