"""Loads the BLAS library _C links against (OpenBLAS from the scipy-openblas32 wheel) before _C."""
import ctypes
import os


def preload() -> None:
    import scipy_openblas32

    lib = os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library() + ".so")
    if not os.path.exists(lib):  # the wheel names its library libscipy_openblas.so
        lib = os.path.join(scipy_openblas32.get_lib_dir(), "libscipy_openblas.so")
    ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
