"""vibetensor.kernels: the kernel suite (Triton kernels in kernels/triton, compiled once, cached on
disk and launched from C++ under the kernels.backend policy: suite.py) and the kernels launched
from Python through caches governed by the kernels.cache policy (cache.py, triton_ops.py).
Importing it registers the suite's Triton compiler when Triton is installed; nothing here needs
Triton or a GPU to import."""
from vibetensor.kernels import suite as _suite

_suite.install()
