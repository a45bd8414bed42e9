"""The suite's Triton kernels, one family per module; each module's KERNELS table names the kernels
that C++ declarations launch (kernels/triton_compiler.py)."""
