"""Fixtures of the GPU tests (tests/gpu)."""
import pytest


@pytest.fixture
def triton_suite():
    """Runs a test under kernels.backend=triton with a fresh kernel suite report (suite_util)."""
    from suite_util import triton_backend

    with triton_backend():
        yield
