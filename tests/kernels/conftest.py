"""Runs the kernels of kernels/triton/ under Triton's CPU interpreter: TRITON_INTERPRET=1 is set here,
before any kernel module is imported (_families.py loads them from this checkout).

It holds for the whole pytest process; @triton.jit reads it when a kernel is decorated, so kernels
decorated earlier (vibetensor.kernels.triton_ops) stay compiled. The compile test clears it in its
subprocess."""
import os

os.environ["TRITON_INTERPRET"] = "1"
