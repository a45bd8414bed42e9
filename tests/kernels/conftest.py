"""The tests of this folder run the kernels of kernels/triton/ under Triton's CPU interpreter, which
must be chosen before Triton is first imported (TRITON_INTERPRET=1 decides how Triton decorates its
own library), so it cannot share a process with tests that compile Triton kernels.
tests/test_triton_interpreter.py runs this folder in a process of its own with the variable set;
elsewhere its files are not collected."""
import os

if os.environ.get("TRITON_INTERPRET") != "1":
    collect_ignore_glob = ["test_*.py"]
