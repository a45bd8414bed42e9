#pragma once
// Threads the backward engine can hand work to, per autograd.workers and autograd.routing.
// See Note [Engine threads] in engine_threads.cpp.
#include <functional>

namespace vt::autograd {

// Runs fn on a thread chosen by autograd.workers (caller: inline; pool: a persistent pool
// thread; spawn: a thread created and joined for this call) and rethrows its exception here.
void run_on_worker(const std::function<void()>& fn);

// Runs fn on the process-wide owner thread (autograd.routing=owner) and waits for it.
void run_on_owner(const std::function<void()>& fn);

}  // namespace vt::autograd
