"""The CuTe DSL kernels compile without a GPU to cubins whose entries take the C++ declarations' parameters
and whose aligned variants use 128-bit accesses (scripts/cute_compile_check.py). Skipped without
nvidia-cutlass-dsl (the `cute` extra); the kernels' values are checked on a GPU (tests/gpu/test_suite_cute.py)."""
import os
import sys

import pytest

pytest.importorskip("cutlass")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import cute_compile_check  # noqa: E402


def test_row_kernels_compile_with_the_declared_parameters(capsys):
    assert cute_compile_check.main(["--widths", "36,256", "--dtypes", "fp32,bf16",
                                    "--kernels", "softmax_fwd,rms_norm_bwd_dx,cross_entropy_fwd"]) == 0
    out = capsys.readouterr().out
    assert "3 kernels, 0 failing specializations" in out and "FAIL" not in out
