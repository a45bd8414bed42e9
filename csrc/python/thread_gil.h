#pragma once
// Taking the GIL from a thread Python did not create (the backward engine's workers), keeping the
// thread's Python thread state between calls. See Note [Engine threads and Python thread states].
#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace vt::python {

// Note [Engine threads and Python thread states]
// nb::gil_scoped_acquire is PyGILState_Ensure: on a thread without a Python thread state it creates
// one, and the matching release deletes it again. An engine worker (autograd.workers=pool or spawn)
// that calls into Python per node (a tensor hook, a custom Function, a kernel launched from Python
// under kernels.launch=python) therefore built and tore down a thread state on every call: about
// 7 us per call on this project's CPU VM against about 1 us on the calling thread
// (benchmarks/bench_engine_python_calls.py), and threading.local values did not survive from one call
// to the next. torch's PythonEngine::thread_init does what keep_thread_state does: the first call on
// such a thread takes a thread state for good (one PyGILState_Ensure left outstanding, the GIL
// released again), so later acquisitions only switch to it; it is given back when the thread ends
// (a spawned worker) or never (the pool's threads live for the process).
void keep_thread_state();

// nb::gil_scoped_acquire after keep_thread_state(): how a call into Python that may run on an engine
// thread takes the GIL (the members are built in order: the thread state is kept, then the GIL taken).
class EngineGil {
  struct KeepThreadState {
    KeepThreadState() { keep_thread_state(); }
  };
  KeepThreadState kept_;
  nb::gil_scoped_acquire gil_;
};

}  // namespace vt::python
