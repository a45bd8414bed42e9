#include "probes/trace_ring.h"

#include <time.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace vt::probes {

// Note [Probe scopes]
// Each thread appends completed events to its own fixed-size ring, so recording takes no lock
// and never allocates on the hot path; drain_trace_events() walks the rings under the registry
// mutex (taken only at registration and drain). A ring that wraps overwrites its oldest events
// and counts them as dropped. Rings belong to the registry and outlive their threads, so a drain
// after a worker thread exited still sees its events.

namespace {

constexpr size_t kRingSize = 1 << 16;

struct Ring {
  std::vector<TraceEvent> events = std::vector<TraceEvent>(kRingSize);
  std::atomic<uint64_t> head{0};  // total events written
  uint64_t drained = 0;           // events already drained (registry mutex)
  uint32_t tid;
};

std::mutex& registry_mutex() { static std::mutex m; return m; }
std::vector<Ring*>& rings() { static std::vector<Ring*> r; return r; }
std::atomic<uint64_t> g_dropped{0};

Ring& my_ring() {
  thread_local Ring* ring = [] {
    auto* r = new Ring();
    r->tid = uint32_t(std::hash<std::thread::id>()(std::this_thread::get_id()) & 0x7fffffff);
    std::lock_guard<std::mutex> g(registry_mutex());
    rings().push_back(r);
    return r;
  }();
  return *ring;
}

}  // namespace

uint64_t trace_clock_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

uint64_t trace_begin() { return trace_clock_ns(); }

void trace_end(Category c, const char* name, uint64_t begin_ns) {
  Ring& r = my_ring();
  uint64_t h = r.head.load(std::memory_order_relaxed);
  r.events[h % kRingSize] = TraceEvent{begin_ns, trace_clock_ns(), name, c, r.tid};
  r.head.store(h + 1, std::memory_order_release);
}

std::vector<TraceEvent> drain_trace_events() {
  std::lock_guard<std::mutex> g(registry_mutex());
  std::vector<TraceEvent> out;
  for (Ring* r : rings()) {
    uint64_t head = r->head.load(std::memory_order_acquire);
    uint64_t start = r->drained;
    if (head - start > kRingSize) {
      g_dropped.fetch_add(head - start - kRingSize, std::memory_order_relaxed);
      start = head - kRingSize;
    }
    for (uint64_t i = start; i < head; ++i) out.push_back(r->events[i % kRingSize]);
    r->drained = head;
  }
  return out;
}

uint64_t dropped_trace_events() { return g_dropped.load(std::memory_order_relaxed); }

const char* intern_name(const std::string& s) {
  static std::mutex m;
  static std::unordered_set<std::string> names;
  std::lock_guard<std::mutex> g(m);
  return names.insert(s).first->c_str();
}

const char* category_name(Category c) {
  static const char* names[] = {"op", "dispatch", "autograd", "alloc", "sync", "python"};
  return names[int(c)];
}

}  // namespace vt::probes
