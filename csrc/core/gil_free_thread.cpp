#include "core/gil_free_thread.h"

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace vt {
namespace {

thread_local bool t_gil_forbidden = false;
std::atomic<bool> g_any_deferred{false};  // lets the drain after every backward skip the mutex

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
  g_any_deferred.store(true, std::memory_order_release);
}

int run_deferred_gil_work() {
  if (!g_any_deferred.load(std::memory_order_acquire)) [[likely]] return 0;
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> g(queue_mutex());
    g_any_deferred.store(false, std::memory_order_relaxed);
    work.swap(queue());
  }
  for (auto& fn : work) fn();  // outside the lock: a deferred release may defer again
  return int(work.size());
}

}  // namespace vt
