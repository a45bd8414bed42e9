"""tests/kernels (the suite's Triton kernels against torch under Triton's CPU interpreter) in a process
of its own with TRITON_INTERPRET=1: see tests/kernels/conftest.py."""
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_triton_kernels_under_the_interpreter():
    pytest.importorskip("triton")
    pytest.importorskip("torch")
    folder = Path(__file__).parent / "kernels"
    env = dict(os.environ, TRITON_INTERPRET="1")
    r = subprocess.run([sys.executable, "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
                       env=env, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f"tests/kernels failed under the interpreter:\n{r.stdout[-6000:]}\n{r.stderr[-2000:]}"
    assert " passed" in r.stdout.splitlines()[-1], r.stdout[-2000:]
