#pragma once
// The sync ledger: every host-blocking CUDA call vibetensor makes is counted by call-site name.
// See Note [Sync ledger].
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vt::cuda {

// Note [Sync ledger]
// A call that makes the host wait for the GPU (stream/event/device synchronize, a synchronous
// copy, cudaFree/cudaFreeHost, reading a CUDA scalar with .item(), the scalars.cuda=device_copy
// upload) serializes the host with the device; counting them by site says which code paths
// stall. The ledger counts always (a host sync costs microseconds; the count costs nanoseconds)
// and also feeds the probes counter host_syncs. Call-site names are short literals such as
// "copy_d2h", "stream_synchronize", "cudaFree".
// On a thread that is capturing a CUDA graph it raises instead (Note [CUDA graph capture]).
void note_host_sync(const char* site);

std::vector<std::pair<std::string, uint64_t>> sync_ledger();
void reset_sync_ledger();

}  // namespace vt::cuda
