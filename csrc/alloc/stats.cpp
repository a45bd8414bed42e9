// Allocator statistics, messages and the allocator-wide mutexes shared by every strategy.
#include <cstdio>

#include "alloc/allocator.h"
#include "alloc/locks.h"
#include "core/error.h"

namespace vt::alloc {

void Stats::on_alloc(int64_t size, int64_t req) {
  allocated += size;
  requested += req;
  allocated_total += size;
  active_blocks += 1;
  if (allocated > peak_allocated) peak_allocated = allocated;
  if (requested > peak_requested) peak_requested = requested;
}

void Stats::on_free(int64_t size, int64_t req) {
  allocated -= size;
  requested -= req;
  freed_total += size;
  active_blocks -= 1;
}

void Stats::on_reserve(int64_t bytes) {
  reserved += bytes;
  if (reserved > peak_reserved) peak_reserved = reserved;
}

std::string format_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) { v /= 1024.0; ++u; }
  char buf[64];
  if (u == 0) std::snprintf(buf, sizeof buf, "%lld B", (long long)bytes);
  else std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

void throw_oom(const char* strategy, size_t requested, int device, const Stats& s, cudaError_t err) {
  size_t free_b = 0, total_b = 0;
  bool have_info = cudaMemGetInfo(&free_b, &total_b) == cudaSuccess;
  cudaGetLastError();
  std::string dev_info = have_info ? "; the device reports " + format_bytes(int64_t(free_b)) + " free of " +
                                         format_bytes(int64_t(total_b)) + " total"
                                   : "";
  detail::throw_error(ErrorKind::Runtime, "CUDA out of memory: tried to allocate ", format_bytes(int64_t(requested)),
                      " (", requested, " bytes) on cuda:", device, " with the '", strategy,
                      "' allocator (alloc.cuda=", strategy, "); ", format_bytes(s.reserved), " (", s.reserved,
                      " bytes) reserved by the allocator, ", format_bytes(s.allocated), " (", s.allocated,
                      " bytes) allocated to tensors", dev_info, " (", cudaGetErrorName(err), ")");
}

probes::InstrumentedMutex& global_alloc_mutex() {
  static auto* m = new probes::InstrumentedMutex("alloc.global");
  return *m;
}
probes::InstrumentedMutex& global_metadata_mutex() {
  static auto* m = new probes::InstrumentedMutex("alloc.metadata");
  return *m;
}

}  // namespace vt::alloc

namespace vt::alloc {

void DeviceAllocator::begin_capture(int device, uint64_t pool, cudaStream_t stream) {
  VT_ERROR("CUDA graph capture needs alloc.cuda=caching (graph memory comes from a private pool of the caching "
           "allocator), but this process uses alloc.cuda=", name(), "; set the policy before the first CUDA allocation");
}

}  // namespace vt::alloc
