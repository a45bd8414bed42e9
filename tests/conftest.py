"""Shared fixtures: the device a test runs on, a seeded numpy generator, and policies restored
after every test. Helpers for comparing with torch live in harness.py."""
import numpy as np
import pytest

import vibetensor as vt
from harness import DEVICES

# CUDA convolutions use TF32 by default, as torch's cuDNN ones do (Note [TF32 matmul]); the tests compare
# float32 results with torch's CPU at IEEE tolerances, so they run with it off, as torch's own test suite does
# (test_cuda_convolution_follows_cudnn_allow_tf32 turns it on).
vt.backends.cudnn.allow_tf32 = False

if vt.policy.get("kernels.backend") != "native":  # VT_POLICY=kernels.backend=triton: the suite's compiler
    import vibetensor.kernels  # noqa: F401


@pytest.fixture(params=DEVICES)
def device(request):
    """The device a test written once runs on: "cpu", and "cuda" (skipped without a GPU)."""
    yield request.param
    if request.param == "cuda":
        _stop_if_context_lost(request.node.nodeid)


def _stop_if_context_lost(nodeid):
    """A device-side trap (checks.cuda_index=device_assert on a bad index) loses the CUDA context for
    the rest of the process; every later CUDA test would fail with an unrelated error. Name the test
    that lost it and stop the run instead."""
    try:
        vt.cuda.synchronize()
    except RuntimeError as e:
        pytest.exit(f"{nodeid} left the CUDA context unusable ({e}); later CUDA tests cannot run in this "
                    "process (a bad index under checks.cuda_index=device_assert? see Note [CUDA index checks])",
                    returncode=1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _restore_policies_and_grad_mode():
    """Policies are process-wide: every test starts from and leaves the values it found."""
    before = vt.policy.current()
    grad_mode = vt.is_grad_enabled()
    yield
    for name, value in before.items():
        if vt.policy.get(name) != value:
            vt.policy.set(name, value)
    vt.set_grad_enabled(grad_mode)


@pytest.fixture
def restore_policies():
    """Puts every policy back as it was and clears counters and lock statistics after the test."""
    with vt.policy.override({}):
        yield
    vt._C._reset_counters()
    vt._C._reset_lock_stats()
