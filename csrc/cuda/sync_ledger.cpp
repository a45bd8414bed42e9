#include "cuda/sync_ledger.h"

#include <map>
#include <mutex>

#include "cuda/capture_state.h"
#include "probes/counters.h"

namespace vt::cuda {

namespace {
// A plain mutex: the caller is about to block on the GPU anyway, and this lock is not a
// serialization point under study.
std::mutex& ledger_mutex() { static std::mutex m; return m; }
std::map<std::string, uint64_t>& ledger() { static auto* l = new std::map<std::string, uint64_t>(); return *l; }
}  // namespace

void note_host_sync(const char* site) {
  check_not_capturing(site);  // Note [CUDA graph capture]
  probes::count(probes::Counter::host_syncs);
  std::lock_guard<std::mutex> g(ledger_mutex());
  ++ledger()[site];
}

std::vector<std::pair<std::string, uint64_t>> sync_ledger() {
  std::lock_guard<std::mutex> g(ledger_mutex());
  return {ledger().begin(), ledger().end()};
}

void reset_sync_ledger() {
  std::lock_guard<std::mutex> g(ledger_mutex());
  ledger().clear();
}

}  // namespace vt::cuda
