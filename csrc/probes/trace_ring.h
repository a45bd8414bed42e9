#pragma once
// Per-thread rings of completed trace events, drained into a Chrome trace (see probes/trace.py).
#include <cstdint>
#include <string>
#include <vector>

#include "probes/scope.h"

namespace vt::probes {

struct TraceEvent {
  uint64_t begin_ns, end_ns;
  const char* name;  // string literals or interned names only: the ring stores the pointer
  Category cat;
  uint32_t tid;
};

// All events recorded since the last drain, from every thread, oldest first per thread.
// Events overwritten in a full ring are counted in dropped().
std::vector<TraceEvent> drain_trace_events();
uint64_t dropped_trace_events();
// Interns a dynamic name (a Python range name) so a TraceEvent can point at it.
const char* intern_name(const std::string& s);
// Clock shared with Python: CLOCK_MONOTONIC nanoseconds (time.monotonic_ns()).
uint64_t trace_clock_ns();

}  // namespace vt::probes
