// The CPU allocator with probe scopes: every CPU allocation and free as a fine NVTX/trace range.
// See Note [NVTX ranges].
#include "core/cpu_memory.h"
#include "core/storage.h"
#include "probes/scope.h"

namespace vt::probes {

#if VT_PROBES
namespace {
// Each CPU allocation is a trip to the C heap (there is no cache), so all of them are fine ranges;
// off, the scope is the usual relaxed loads and the extra indirect call through the hook.
Storage allocate_cpu_with_ranges(size_t nbytes, Device device) {
  VT_PROBE_SCOPE(alloc, fine, "cpu_alloc");
  return Storage::make(cpu_malloc(nbytes), nbytes, device, [](void* p) {
    VT_PROBE_SCOPE(alloc, fine, "cpu_free");
    cpu_free(p);
  });
}
const bool registered = (set_device_allocator(DeviceType::CPU, &allocate_cpu_with_ranges), true);
}  // namespace
#endif

}  // namespace vt::probes
