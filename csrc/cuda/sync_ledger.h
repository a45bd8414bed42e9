#pragma once
// The sync ledger: every host-blocking CUDA call vibetensor makes is counted by call-site name.
// See Note [Sync ledger].
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "probes/scope.h"

namespace vt::cuda {

// Note [Sync ledger]
// A call that makes the host wait for the GPU (stream/event/device synchronize, a synchronous
// copy, cudaFree/cudaFreeHost, reading a CUDA scalar with .item(), the scalars.cuda=device_copy
// upload) serializes the host with the device; counting them by site says which code paths
// stall. The ledger counts always (a host sync costs microseconds; the count costs nanoseconds)
// and also feeds the probes counter host_syncs. Call-site names are short literals such as
// "copy_d2h", "stream_synchronize", "cudaFree". Call sites declare a HostSync, which also marks
// the blocking call as an NVTX range.
// On a thread that is capturing a CUDA graph it raises instead (Note [CUDA graph capture]).
void note_host_sync(const char* site);

// A host-blocking call, declared just before it: counts the sync and, for the rest of the block,
// opens a coarse NVTX/trace range named by the site (Note [NVTX ranges]).
class HostSync {
 public:
  explicit HostSync(const char* site) : range_(probes::Category::sync, probes::Detail::coarse, site) {
    note_host_sync(site);
  }

 private:
  probes::Scope range_;
};

std::vector<std::pair<std::string, uint64_t>> sync_ledger();
void reset_sync_ledger();

}  // namespace vt::cuda
