"""vibetensor: a research-instrumented eager deep-learning runtime."""
import os as _os

# In a source checkout the top-level kernels/, probes/ and experiments/ folders are the
# subpackages vibetensor.kernels, .probes and .experiments (the wheel maps them there).
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.exists(_os.path.join(_root, "CMakeLists.txt")) and _os.path.isdir(_os.path.join(_root, "experiments")):
    __path__.append(_root)  # noqa: F821

from vibetensor import _blas  # noqa: E402

_blas.preload()
from vibetensor import _C  # noqa: E402,F401
from vibetensor import cuda  # noqa: E402,F401
