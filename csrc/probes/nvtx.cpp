// NVTX ranges in domain "vibetensor". See Note [NVTX ranges].
#include "probes/counters.h"
#include "probes/scope.h"

#if VT_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

namespace vt::probes {

// Note [NVTX ranges]
// Probe scopes (scope.h) push and pop NVTX ranges in domain "vibetensor", one NVTX category per
// probe category, so Nsight Systems shows them unchanged. probes.nvtx picks the detail: off, coarse
// (a whole backward; Python's step, forward, backward and optimizer ranges) or fine (also every op,
// backward node, allocation and sync). Ranges are compiled in when the NVTX3 headers are found at
// build time (VT_HAVE_NVTX); otherwise nvtx_compiled() is false and vibetensor.probes warns when
// NVTX is asked for.

#if VT_HAVE_NVTX
namespace {
nvtxDomainHandle_t domain() {
  static nvtxDomainHandle_t d = [] {
    nvtxDomainHandle_t h = nvtxDomainCreateA("vibetensor");
    for (int c = 0; c < int(Category::kNum); ++c) nvtxDomainNameCategoryA(h, uint32_t(c + 1), category_name(Category(c)));
    return h;
  }();
  return d;
}
}  // namespace

void nvtx_push(Category c, const char* name) {
  nvtxEventAttributes_t a = {};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.category = uint32_t(c) + 1;
  a.messageType = NVTX_MESSAGE_TYPE_ASCII;
  a.message.ascii = name;
  nvtxDomainRangePushEx(domain(), &a);
  count(Counter::nvtx_ranges);
}
void nvtx_pop() { nvtxDomainRangePop(domain()); }
bool nvtx_compiled() { return true; }
#else
void nvtx_push(Category, const char*) {}
void nvtx_pop() {}
bool nvtx_compiled() { return false; }
#endif

}  // namespace vt::probes
