"""Helpers of the GPU tests of the kernel suite's families: a fixture body that runs a test under a
suite backend (kernels.backend=triton or cute) with a fresh report, and the report's launches and
fallbacks of one family."""
import contextlib

import vibetensor as vt
from vibetensor.kernels import suite


@contextlib.contextmanager
def suite_backend(backend):
    assert suite.install() and suite.installed(backend)
    suite.reset_report()
    with vt.policy.override({"kernels.backend": backend}):
        yield
    suite.reset_report()


def triton_backend():
    return suite_backend("triton")


def launches(family, backend="triton"):
    """Launches of `family` by `backend` since the last reset."""
    return sum(r["count"] for r in suite.report() if r["family"] == family and r["backend"] == backend
               and not r["fallback"])


def fallbacks(family):
    """{reason: count} of `family`'s fallbacks to native since the last reset."""
    return {r["fallback"]: r["count"] for r in suite.report() if r["family"] == family and r["fallback"]}
