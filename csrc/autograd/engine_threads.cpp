#include "autograd/engine_threads.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "policy/catalogue.h"
#include "probes/counters.h"
#include "probes/instrumented_mutex.h"

namespace vt::autograd {

// Note [Engine threads]
// autograd.workers=pool keeps persistent worker threads (one per hardware thread, started on
// first use) fed from one queue; a backward call enqueues its graph task and blocks until a
// worker has run it, as torch hands device work to its device threads. spawn creates a thread
// per backward call and joins it (VibeTensor's engine behaviour): the cost is thread creation
// and teardown on every step. autograd.routing=owner sends every gradient routing step (input
// buffer accumulation and readiness bookkeeping) to one process-wide owner thread and waits for
// it: two thread hand-offs per node, and all concurrent backward calls queue on that one thread.

namespace {

// A queue of closures served by `n` threads; submit() blocks until the closure ran.
class ServiceThreads {
 public:
  ServiceThreads(const char* lock_name, unsigned n) : mutex_(lock_name) {
    for (unsigned i = 0; i < n; ++i) {
      probes::count(probes::Counter::threads_created);
      std::thread([this] { serve(); }).detach();  // lives for the process
    }
  }

  void submit(const std::function<void()>& fn) {
    Job job{&fn};
    {
      std::lock_guard<probes::InstrumentedMutex> g(mutex_);
      queue_.push_back(&job);
    }
    cv_.notify_one();
    std::unique_lock<std::mutex> lk(job.m);
    job.cv.wait(lk, [&] { return job.done; });
    if (job.error) std::rethrow_exception(job.error);
  }

 private:
  struct Job {
    const std::function<void()>* fn;
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::exception_ptr error;
  };

  void serve() {
    for (;;) {
      Job* job;
      {
        std::unique_lock<probes::InstrumentedMutex> lk(mutex_);
        cv_.wait(lk, [&] { return !queue_.empty(); });
        job = queue_.front();
        queue_.pop_front();
      }
      try {
        (*job->fn)();
      } catch (...) {
        job->error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> g(job->m);
        job->done = true;
      }
      job->cv.notify_one();
    }
  }

  probes::InstrumentedMutex mutex_;
  std::condition_variable_any cv_;
  std::deque<Job*> queue_;
};

ServiceThreads& pool() {
  static ServiceThreads* p = new ServiceThreads("autograd.worker_pool", std::max(2u, std::thread::hardware_concurrency()));
  return *p;
}
ServiceThreads& owner() {
  static ServiceThreads* o = new ServiceThreads("autograd.owner_queue", 1);
  return *o;
}

}  // namespace

void run_on_worker(const std::function<void()>& fn) {
  switch (policy::autograd_workers.get()) {
    case policy::AutogradWorkers::caller:
      fn();
      return;
    case policy::AutogradWorkers::pool:
      pool().submit(fn);
      return;
    case policy::AutogradWorkers::spawn: {
      std::exception_ptr error;
      probes::count(probes::Counter::threads_created);
      std::thread t([&] {
        try { fn(); } catch (...) { error = std::current_exception(); }
      });
      t.join();
      if (error) std::rethrow_exception(error);
      return;
    }
  }
}

void run_on_owner(const std::function<void()>& fn) { owner().submit(fn); }

}  // namespace vt::autograd
