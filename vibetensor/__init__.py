"""vibetensor: a research-instrumented eager deep-learning runtime."""
from vibetensor import _blas

_blas.preload()
from vibetensor import _C  # noqa: E402
