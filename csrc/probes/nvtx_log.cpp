// The NVTX range log. See Note [NVTX range log].
#include "probes/nvtx_log.h"

#include <mutex>

namespace vt::probes {

std::atomic<bool> g_nvtx_log_on{false};

namespace {
// A plain mutex: the log is on only in tests, and ranges may be pushed from autograd workers.
std::mutex& log_mutex() { static std::mutex m; return m; }
std::vector<std::string>& log() { static auto* l = new std::vector<std::string>(); return *l; }
}  // namespace

void nvtx_log_append(const char* name) {
  std::lock_guard<std::mutex> g(log_mutex());
  log().emplace_back(name);
}

void nvtx_log_start() {
  std::lock_guard<std::mutex> g(log_mutex());
  log().clear();
  g_nvtx_log_on.store(true, std::memory_order_relaxed);
}

std::vector<std::string> nvtx_log_stop() {
  std::lock_guard<std::mutex> g(log_mutex());
  g_nvtx_log_on.store(false, std::memory_order_relaxed);
  return std::move(log());
}

}  // namespace vt::probes
