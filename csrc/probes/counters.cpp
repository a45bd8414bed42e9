#include "probes/counters.h"

namespace vt::probes {

CounterCell g_counters[int(Counter::kNumCounters)];

const char* counter_name(Counter c) {
  static const char* names[] = {
      "ops_dispatched", "boxed_calls", "name_lookups", "autograd_nodes_executed", "backward_calls",
      "threads_created", "gil_held_ns", "alloc_calls", "alloc_hits", "alloc_misses", "device_malloc_calls",
      "device_free_calls", "host_syncs", "kernel_cache_hits", "kernel_cache_misses", "kernel_compiles", "stack_copies", "nvtx_ranges"};
  static_assert(sizeof(names) / sizeof(names[0]) == int(Counter::kNumCounters));
  return names[int(c)];
}

std::vector<std::pair<std::string, uint64_t>> counters_snapshot() {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (int i = 0; i < int(Counter::kNumCounters); ++i)
    out.emplace_back(counter_name(Counter(i)), g_counters[i].v.load(std::memory_order_relaxed));
  return out;
}

void reset_counters() {
  for (auto& c : g_counters) c.v.store(0, std::memory_order_relaxed);
}

}  // namespace vt::probes
