"""Helpers of the GPU tests of the kernel suite's families: a fixture body that runs a test under
kernels.backend=triton with a fresh report, and the report's launches and fallbacks of one family."""
import contextlib

import vibetensor as vt
from vibetensor.kernels import suite


@contextlib.contextmanager
def triton_backend():
    assert suite.install()
    suite.reset_report()
    with vt.policy.override({"kernels.backend": "triton"}):
        yield
    suite.reset_report()


def launches(family):
    """Triton launches of `family` since the last reset."""
    return sum(r["count"] for r in suite.report() if r["family"] == family and r["backend"] == "triton"
               and not r["fallback"])


def fallbacks(family):
    """{reason: count} of `family`'s fallbacks to native since the last reset."""
    return {r["fallback"]: r["count"] for r in suite.report() if r["family"] == family and r["fallback"]}
