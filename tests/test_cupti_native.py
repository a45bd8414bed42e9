"""The native CUPTI collector (csrc/probes/cupti_activity.cpp) without a GPU: its build status, the
errors of its bindings, the backend choice of vibetensor.probes.cupti and its libcupti finder.
Recording is tested on a GPU in tests/gpu/test_cupti_activity.py."""
import os
import re
import subprocess
import sys

import pytest

import vibetensor as vt
from vibetensor import _C
from vibetensor.probes import cupti

STATUS = _C._cupti_native_status()
needs_native_build = pytest.mark.skipif(STATUS is not None, reason=f"native CUPTI collector not built: {STATUS}")
# On a GPU machine the GPU tests (collected first) have opened libcupti in this process already.
no_gpu = pytest.mark.skipif(vt.cuda.is_available(), reason="checks the collector before any libcupti is opened")


def test_status_is_none_when_built_else_the_reason():
    assert STATUS is None or (isinstance(STATUS, str) and STATUS)
    if not vt.cuda.is_built():
        assert "without the CUDA backend" in STATUS


@pytest.mark.skipif(STATUS is None, reason="checks a build without the native collector")
def test_every_binding_of_a_build_without_the_collector_says_so():
    calls = [lambda: _C._cupti_native_open("/x/libcupti.so"), lambda: _C._cupti_native_start(True, 1 << 20),
             _C._cupti_native_stop, _C._cupti_native_timestamp, _C._cupti_native_dropped,
             lambda: _C._cupti_native_callback_name(211)]
    for call in calls:
        with pytest.raises(RuntimeError, match="the native CUPTI collector is not built: " + re.escape(STATUS)):
            call()


def test_stop_without_start_is_an_error():
    expected = "no GPU activity collector is recording" if STATUS is None else "not built"
    with pytest.raises(RuntimeError, match=expected):
        _C._cupti_native_stop()


@needs_native_build
def test_a_buffer_size_out_of_range_is_a_value_error():
    with pytest.raises(ValueError, match="CUPTI buffer size 10 is out of range: expected 65536"):
        _C._cupti_native_start(True, 10)


@needs_native_build
@no_gpu
@pytest.mark.skipif(cupti._loaded_libcupti() is not None, reason="a libcupti is loaded already: open() takes it")
def test_open_names_the_library_it_cannot_load():
    with pytest.raises(RuntimeError, match="cannot load libcupti from '/nonexistent/libcupti.so'"):
        _C._cupti_native_open("/nonexistent/libcupti.so")


_OPEN_WITHOUT_GPU = r"""
from vibetensor import _C
from vibetensor.probes import cupti

def error(call):
    try:
        call()
    except RuntimeError as e:
        return str(e)
    return None

assert "libcupti is not loaded" in error(_C._cupti_native_timestamp)
path = _C._cupti_native_open(cupti.find_libcupti())
assert _C._cupti_native_open("/elsewhere/libcupti.so") == path  # the first library stays
assert 0 < _C._cupti_native_timestamp() <= _C._cupti_native_timestamp()
assert _C._cupti_native_callback_name(211).startswith("cudaLaunchKernel")  # CUPTI_RUNTIME_TRACE_CBID 211
assert "no GPU activity collector is recording" in error(_C._cupti_native_stop)
first = error(lambda: _C._cupti_native_start(True, 1 << 20))
if first is None:  # a driver that lets CUPTI enable its kinds without a GPU
    assert _C._cupti_native_stop() == [] and _C._cupti_native_dropped() == 0
else:  # the failed start left nothing enabled: the next one fails the same way, not "already recording"
    assert "cuptiActivityEnable(CUPTI_ACTIVITY_KIND_" in first and "(CUPTI error " in first, first
    assert error(lambda: _C._cupti_native_start(True, 1 << 20)) == first
print(path)
"""


@needs_native_build
@no_gpu
@pytest.mark.skipif(cupti.find_libcupti() is None, reason="no libcupti on this machine")
def test_open_resolves_libcupti_and_its_clock_works_without_a_gpu():
    # A process of its own: libcupti stays loaded for the rest of a process once opened.
    p = subprocess.run([sys.executable, "-P", "-c", _OPEN_WITHOUT_GPU], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert os.path.basename(p.stdout.strip()).startswith("libcupti.so")


def test_find_libcupti_returns_an_existing_file_or_none():
    path = cupti.find_libcupti()
    assert path is None or os.path.isfile(path)


def test_find_libcupti_prefers_a_loaded_copy_then_the_wheels_then_cuda_home(tmp_path, monkeypatch):
    def lib(rel):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")
        return str(p)

    home = lib("cuda/extras/CUPTI/lib64/libcupti.so")
    monkeypatch.setenv("CUDA_HOME", str(tmp_path / "cuda"))
    monkeypatch.setattr(cupti, "_loaded_libcupti", lambda: None)
    monkeypatch.setattr(cupti, "_package_dirs", lambda name: [])
    assert cupti.find_libcupti() == home  # $CUDA_HOME before /usr/local/cuda
    triton = lib("site/triton/backends/nvidia/lib/cupti/libcupti.so")
    wheel = lib("site/nvidia/cuda_cupti/lib/libcupti.so.12")
    dirs = {"nvidia": [str(tmp_path / "site/nvidia")], "triton": [str(tmp_path / "site/triton")]}
    monkeypatch.setattr(cupti, "_package_dirs", lambda name: dirs[name])
    assert cupti.find_libcupti() == wheel
    os.remove(wheel)
    assert cupti.find_libcupti() == triton
    monkeypatch.setattr(cupti, "_loaded_libcupti", lambda: "/opt/loaded/libcupti.so.13")
    assert cupti.find_libcupti() == "/opt/loaded/libcupti.so.13"


def test_a_bad_backend_name_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("VT_CUPTI_BACKEND", "bogus")
    expected = r"VT_CUPTI_BACKEND='bogus' is not a CUPTI backend: expected 'native' or 'cupti-python'"
    with pytest.raises(ValueError, match=expected):
        cupti.KernelActivity()
    with pytest.raises(ValueError, match=expected):
        cupti.unavailable_reason()


def test_a_forced_backend_that_cannot_record_is_named(monkeypatch):
    def no_package():
        raise ImportError("No module named 'cupti'")

    monkeypatch.setattr(vt.cuda, "is_available", lambda: True)  # past the GPU check, to the backends
    monkeypatch.setattr(cupti, "_import_cupti", no_package)
    monkeypatch.setenv("VT_CUPTI_BACKEND", "cupti-python")
    with pytest.raises(RuntimeError, match="KernelActivity needs CUPTI, but VT_CUPTI_BACKEND=cupti-python forces "
                                           "that backend and the cupti-python package cannot be imported"):
        cupti.KernelActivity()
    if STATUS is not None:
        monkeypatch.setenv("VT_CUPTI_BACKEND", "native")
        assert cupti.unavailable_reason() == f"VT_CUPTI_BACKEND=native forces that backend and the native " \
                                             f"collector is not built: {STATUS}"
        monkeypatch.delenv("VT_CUPTI_BACKEND")
        reason = cupti.unavailable_reason()  # neither backend: both reasons
        assert "native collector is not built" in reason and "cupti-python package cannot be imported" in reason


def test_the_gil_hazard_is_the_cupti_python_backends_only():
    with vt.policy.override({"preset": "vibe"}):
        assert cupti.gil_hazard("native") is None
        hazard = cupti.gil_hazard()
        assert "autograd.gil=held" in hazard and "native collector" in hazard and "no such hazard" in hazard
