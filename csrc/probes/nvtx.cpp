// NVTX ranges in domain "vibetensor". See Note [NVTX ranges].
#include "probes/counters.h"
#include "probes/nvtx_log.h"
#include "probes/scope.h"

#if VT_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

namespace vt::probes {

// Note [NVTX ranges]
// Probe scopes (scope.h) push and pop NVTX ranges in domain "vibetensor", one NVTX category per
// probe category, so Nsight Systems shows them unchanged. probes.nvtx picks the detail:
// - coarse: what structures a step or stalls it, a few ranges per step:
//   - Python: "step", "forward", "backward", "optimizer" around a training step's parts
//     (vt.probes.annotate; the experiments runner, experiments/workloads/phases.py);
//   - "backward": a whole backward pass (autograd/engine.cpp);
//   - every host-blocking sync, named by its sync-ledger site ("copy_d2h", "item",
//     "stream_synchronize", "cudaFree", ...: cuda::HostSync in cuda/sync_ledger.h);
//   - allocator growth: "cudaMalloc" (a new caching segment; every direct allocation) and
//     "cudaHostAlloc" (the pinned cache grows): alloc/caching.cpp, direct.cpp, pinned.cpp.
// - fine: also every op call and its dispatch, named by the op (dispatch/dispatcher.h, .cpp);
//   every backward node, named by the node (autograd/engine.cpp); every allocation and free,
//   "cuda_alloc"/"cuda_free" (alloc/tracking_adaptor.h) and "cpu_alloc"/"cpu_free"
//   (probes/cpu_alloc_ranges.cpp).
// Off, a scope is relaxed loads of probes.nvtx and probes.trace and their branches; names are
// static strings or names their op or node keeps (a node's name is interned only when a scope
// records). Ranges are compiled in when the NVTX3 headers are found at build time (VT_HAVE_NVTX);
// otherwise nvtx_compiled() is false and vibetensor.probes warns when NVTX is asked for. Tests
// see which ranges were pushed through the range log (Note [NVTX range log]).

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
  if (g_nvtx_log_on.load(std::memory_order_relaxed)) [[unlikely]] nvtx_log_append(name);  // Note [NVTX range log]
}
void nvtx_pop() { nvtxDomainRangePop(domain()); }
bool nvtx_compiled() { return true; }
#else
void nvtx_push(Category, const char*) {}
void nvtx_pop() {}
bool nvtx_compiled() { return false; }
#endif

}  // namespace vt::probes
