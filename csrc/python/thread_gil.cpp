#include "python/thread_gil.h"

#include <Python.h>

namespace vt::python {

namespace {

bool interpreter_running() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsInitialized() && !Py_IsFinalizing();
#else
  return Py_IsInitialized() && !_Py_IsFinalizing();
#endif
}

// The thread state a thread keeps (Note [Engine threads and Python thread states]); released at
// thread exit while the interpreter still runs.
struct KeptThreadState {
  PyGILState_STATE gilstate{};
  PyThreadState* tstate = nullptr;
  ~KeptThreadState() {
    if (!tstate || !interpreter_running()) return;
    PyEval_RestoreThread(tstate);
    PyGILState_Release(gilstate);  // the outstanding Ensure: deletes the thread state, drops the GIL
  }
};

}  // namespace

void keep_thread_state() {
  thread_local KeptThreadState state;
  if (state.tstate || PyGILState_GetThisThreadState() != nullptr) return;  // kept, or a Python thread's own
  state.gilstate = PyGILState_Ensure();
  state.tstate = PyEval_SaveThread();  // the GIL goes back; the thread state stays this thread's
}

}  // namespace vt::python
