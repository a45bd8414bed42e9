#include "cuda/capture_state.h"

#include "core/error.h"

namespace vt::cuda {

namespace {
thread_local const Graph* tls_capturing = nullptr;
thread_local CaptureRandom* tls_random = nullptr;
}  // namespace

const Graph* capturing_graph() { return tls_capturing; }

CaptureRandom* capture_random() { return tls_random; }

void set_capturing_graph(const Graph* graph, CaptureRandom* random) {
  tls_capturing = graph;
  tls_random = graph ? random : nullptr;
}

bool thread_is_capturing() { return tls_capturing != nullptr; }

void check_not_capturing(const char* site) {
  VT_CHECK(tls_capturing == nullptr, "CUDA graph capture: '", site,
           "' makes the host wait for the GPU, which is not allowed while this thread captures a CUDA graph; "
           "do it before capture_begin() or after capture_end()");
}


}  // namespace vt::cuda
