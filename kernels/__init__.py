"""vibetensor.kernels: kernels launched from Python (Triton) through caches governed by the
kernels.cache policy. `cache` works without Triton; `triton_ops` imports without it and its
functions raise RuntimeError when Triton or a GPU is missing."""
