#pragma once
// Named event counters, counted only when probes.counters=on. See Note [Event counters].
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "policy/catalogue.h"

namespace vt::probes {

// Note [Event counters]
// probes.counters=on makes every count() call add to a process-wide counter (one cache line each,
// relaxed atomics): ops dispatched, boxed calls, name lookups, backward calls and nodes, threads
// created, GIL-held time, allocator calls, hits and misses, device mallocs and frees, host syncs,
// kernel cache events, stack copies, NVTX ranges. Off, a count() is one relaxed load of the
// policy; built with VT_PROBES=0 it is nothing. vt.probes.counters() reads them.

enum class Counter : int {
  ops_dispatched, boxed_calls, name_lookups, autograd_nodes_executed, backward_calls,
  threads_created, gil_held_ns, alloc_calls, alloc_hits, alloc_misses, device_malloc_calls,
  device_free_calls, host_syncs, kernel_cache_hits, kernel_cache_misses, kernel_compiles, stack_copies,
  nvtx_ranges,
  kNumCounters
};
const char* counter_name(Counter c);

struct alignas(64) CounterCell { std::atomic<uint64_t> v{0}; };
extern CounterCell g_counters[int(Counter::kNumCounters)];

inline bool counters_on() {
#if VT_PROBES
  return policy::probes_counters.get() == policy::ProbesCounters::on;
#else
  return false;
#endif
}
inline void count(Counter c, uint64_t n = 1) {
  if (counters_on()) [[unlikely]] g_counters[int(c)].v.fetch_add(n, std::memory_order_relaxed);
}

std::vector<std::pair<std::string, uint64_t>> counters_snapshot();
void reset_counters();

}  // namespace vt::probes
