#pragma once
// Index bounds checks of CUDA kernels that read class or row indices (nll_loss, embedding).
// See Note [CUDA index checks].
#include <cstdio>

#include "core/tensor.h"
#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/stream.h"
#include "cuda/sync_ledger.h"
#include "policy/catalogue.h"

namespace vt::cuda_kernels {

// Note [CUDA index checks]
// A kernel finds a bad index on the device; the CPU kernels raise IndexError before touching
// memory. How the device tells the host is the policy checks.cuda_index:
// - device_assert (default, as torch's CUDA_KERNEL_ASSERT): the kernel prints the index and
//   traps. No host sync; the error surfaces at the next synchronizing call as a CUDA error and
//   the CUDA context is lost (the process must restart), exactly as with torch.
// - sync: the first bad index is recorded in a small device buffer that the host reads back
//   right after the kernel (a host sync, in the sync ledger under the op's name), raising an
//   IndexError at the call, where the CPU kernel raises it.
// Either way a bad index is never dereferenced: the kernel skips it.

// Passed by value to kernels: where to record a bad index (nullptr: trap).
struct DeviceIndexCheck {
  unsigned long long* slot = nullptr;  // [0]: set to 1 by the first bad index, [1]: its value
  const char* op = "";
  __device__ void report(int64_t bad) const {
    if (slot == nullptr) {
      printf("vibetensor %s: index %lld is out of bounds\n", op, static_cast<long long>(bad));
      __trap();
    }
    if (atomicCAS(slot, 0ull, 1ull) == 0ull) slot[1] = static_cast<unsigned long long>(bad);
  }
};

// Host side of one check: make it before the launch, call raise_if_bad after.
class IndexCheck {
 public:
  // `op` must be a string literal (the kernel prints it).
  IndexCheck(const char* op, Device device) : op_(op), device_(device) {
    if (policy::checks_cuda_index.get() != policy::ChecksCudaIndex::sync) return;
    flag_ = empty_tensor({2}, DType::Int64, device);
    cuda::DeviceGuard g(device.index);
    VT_CUDA_CHECK(cudaMemsetAsync(flag_.data_ptr(), 0, 16, cuda::current_stream(device.index).handle()));
  }
  // The int64 [2] device buffer in sync mode (undefined under device_assert), for kernels that
  // are not CUDA C++ (the suite's Triton kernels record into it themselves).
  const Tensor& flag() const { return flag_; }
  DeviceIndexCheck device_side() const {
    return {flag_.defined() ? static_cast<unsigned long long*>(flag_.data_ptr()) : nullptr, op_};
  }
  // In sync mode, waits for the kernels queued so far and raises IndexError naming the first
  // bad index and `expected` (the valid range, in words).
  template <class... Parts> void raise_if_bad(const Parts&... expected) const {
    if (!flag_.defined()) return;
    unsigned long long host[2] = {0, 0};
    cuda::DeviceGuard g(device_.index);
    cudaStream_t s = cuda::current_stream(device_.index).handle();
    cuda::HostSync host_sync(op_);
    VT_CUDA_CHECK(cudaMemcpyAsync(host, flag_.data_ptr(), sizeof(host), cudaMemcpyDeviceToHost, s));
    VT_CUDA_CHECK(cudaStreamSynchronize(s));
    VT_CHECK_INDEX(host[0] == 0, op_, ": index ", static_cast<int64_t>(host[1]), " is out of bounds (expected ", expected...,
                   ")");
  }

 private:
  const char* op_;
  Device device_;
  Tensor flag_;
};

}  // namespace vt::cuda_kernels
