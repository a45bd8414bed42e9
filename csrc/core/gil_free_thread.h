#pragma once
// Threads that may not take the interpreter lock, and the work they hand to the thread that holds it.
// See Note [Threads that may not take the GIL].
#include <functional>

namespace vt {

// Note [Threads that may not take the GIL]
// Under autograd.gil=held (Note [GIL during backward]) the thread that called backward keeps the GIL
// while engine threads (the backward worker, the routing owner of autograd.routing=owner) run the graph
// and it waits for them. Such a thread must never wait for the GIL: the step would deadlock. The engine
// marks it with a GilFreeThread scope. Work that needs the GIL there is then done another way:
// - suite compiles are queued and suite launches go through C++ (Note [Suite compiles and the GIL]);
// - releases of Python-owned memory and objects (a DLPack producer's deleter, a custom Function's
//   backward, a tensor hook) are queued here with defer_to_gil_holder, and the caller runs the queue
//   with the GIL once backward has returned (csrc/python/autograd_bindings.cpp).
// A DLPack-imported tensor (vt.from_numpy) saved by the graph and freed on the worker once hung the
// vibe preset's backward this way.
class GilFreeThread {
 public:
  GilFreeThread();
  ~GilFreeThread();
  GilFreeThread(const GilFreeThread&) = delete;
  GilFreeThread& operator=(const GilFreeThread&) = delete;

 private:
  bool prev_;
};

// Whether this thread is inside a GilFreeThread scope.
bool gil_forbidden();
// Queues fn (which needs the GIL) for run_deferred_gil_work; thread-safe.
void defer_to_gil_holder(std::function<void()> fn);
// Runs and clears the queue; the caller holds the GIL. Returns how many ran.
int run_deferred_gil_work();

}  // namespace vt
