// The per-thread cuBLAS handle pool. See Note [cuBLAS handles].
#include "ops/cuda/blas_handle.cuh"

#include <array>
#include <mutex>
#include <vector>

#include "cuda/device.h"

namespace vt::cuda_kernels {
namespace {

struct HandlePool {
  std::mutex mutex;
  std::array<std::vector<cublasHandle_t>, cuda::kMaxDevices> free;
};
// Leaked: thread-local destructors may run during process teardown.
HandlePool& handle_pool() {
  static auto* p = new HandlePool();
  return *p;
}

struct ThreadHandles {
  std::array<cublasHandle_t, cuda::kMaxDevices> handles{};
  ~ThreadHandles() {
    HandlePool& p = handle_pool();
    std::lock_guard<std::mutex> g(p.mutex);
    for (int d = 0; d < cuda::kMaxDevices; ++d)
      if (handles[size_t(d)]) p.free[size_t(d)].push_back(handles[size_t(d)]);
  }
};

}  // namespace

cublasHandle_t blas_handle(int device) {
  VT_CHECK(device >= 0 && device < cuda::kMaxDevices, "cuBLAS: invalid device index ", device);
  thread_local ThreadHandles mine;
  cublasHandle_t& h = mine.handles[size_t(device)];
  if (h) [[likely]] return h;
  {
    HandlePool& p = handle_pool();
    std::lock_guard<std::mutex> g(p.mutex);
    auto& free = p.free[size_t(device)];
    if (!free.empty()) {
      h = free.back();
      free.pop_back();
      return h;
    }
  }
  cuda::DeviceGuard g(device);
  cublasHandle_t created = nullptr;
  VT_CUBLAS_CHECK(cublasCreate(&created));
  h = created;
  return h;
}

}  // namespace vt::cuda_kernels
