#include "core/gil_free_thread.h"

#include <mutex>
#include <utility>
#include <vector>

namespace vt {
namespace {

thread_local bool t_gil_forbidden = false;

std::mutex& queue_mutex() {
  static auto* m = new std::mutex;
  return *m;
}

std::vector<std::function<void()>>& queue() {
  static auto* q = new std::vector<std::function<void()>>;
  return *q;
}

}  // namespace

GilFreeThread::GilFreeThread() : prev_(t_gil_forbidden) { t_gil_forbidden = true; }
GilFreeThread::~GilFreeThread() { t_gil_forbidden = prev_; }

bool gil_forbidden() { return t_gil_forbidden; }

void defer_to_gil_holder(std::function<void()> fn) {
  std::lock_guard<std::mutex> g(queue_mutex());
  queue().push_back(std::move(fn));
}

int run_deferred_gil_work() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> g(queue_mutex());
    work.swap(queue());
  }
  for (auto& fn : work) fn();  // outside the lock: a deferred release may defer again
  return int(work.size());
}

}  // namespace vt
