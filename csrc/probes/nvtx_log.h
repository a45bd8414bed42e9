#pragma once
// A log of the NVTX ranges pushed, by name, for tests on machines with no NVTX tool attached.
// See Note [NVTX range log].
#include <atomic>
#include <string>
#include <vector>

namespace vt::probes {

// Note [NVTX range log]
// NVTX calls go nowhere unless a tool (Nsight Systems) injects itself, so a CPU test cannot see a
// range's name through NVTX itself. While the log is on, nvtx_push (nvtx.cpp) also appends the
// name of each range it pushes; the tests read which sites push ranges at each probes.nvtx level.
// Off (always, outside such tests), it costs the pushes one relaxed load and nothing when
// probes.nvtx=off, since no push happens then.
extern std::atomic<bool> g_nvtx_log_on;
void nvtx_log_append(const char* name);
void nvtx_log_start();                     // clears the log and turns it on
std::vector<std::string> nvtx_log_stop();  // turns it off; the names pushed meanwhile, in order

}  // namespace vt::probes
