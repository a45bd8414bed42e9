#include "cuda/capture_state.h"

#include "core/error.h"

namespace vt::cuda {

namespace {
thread_local const Graph* tls_capturing = nullptr;
}  // namespace

const Graph* capturing_graph() { return tls_capturing; }

void set_capturing_graph(const Graph* graph) { tls_capturing = graph; }

bool thread_is_capturing() { return tls_capturing != nullptr; }

void check_not_capturing(const char* site) {
  VT_CHECK(tls_capturing == nullptr, "CUDA graph capture: '", site,
           "' makes the host wait for the GPU, which is not allowed while this thread captures a CUDA graph; "
           "do it before capture_begin() or after capture_end()");
}

void check_no_random_under_capture(const char* op) {
  VT_CHECK(tls_capturing == nullptr, "CUDA graph capture: '", op, "' draws random numbers, whose generator offset is fixed "
           "at capture, so every replay would repeat the same numbers; draw them outside the captured step (or leave "
           "step.capture=eager)");
}

}  // namespace vt::cuda
