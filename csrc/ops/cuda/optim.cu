// CUDA kernel of the multi-tensor Adam/AdamW step (Note [Multi-tensor optimizer step]): every
// parameter of a group in one launch per chunk of tensors, the tensor pointers and the block ->
// (tensor, chunk) map travelling in the kernel's arguments (at most 4 KiB).
#include <cuda_runtime.h>

#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/stream.h"
#include "ops/cuda/device_types.cuh"
#include "ops/optim/adam_update.h"
#include "ops/optim/multi_tensor.h"

namespace vt::cuda_kernels {
namespace {

constexpr int kMaxTensors = 36;
constexpr int kMaxBlocks = 320;
constexpr int64_t kChunk = 65536;  // elements per block
constexpr int kThreads = 512;

struct AdamChunks {
  void* p[kMaxTensors];
  const void* g[kMaxTensors];
  void* m[kMaxTensors];
  void* v[kMaxTensors];
  int64_t n[kMaxTensors];
  unsigned char tensor[kMaxBlocks];  // the tensor slot block b updates
  int chunk[kMaxBlocks];             // and which kChunk-element chunk of it
};
static_assert(sizeof(AdamChunks) + sizeof(optim::AdamStep) < 4000, "kernel arguments must fit in 4 KiB");

template <class D>
__global__ void __launch_bounds__(kThreads) adam_chunks_kernel(AdamChunks a, optim::AdamStep s) {
  using A = dev_opmath_t<D>;
  const int t = a.tensor[blockIdx.x];
  const int64_t start = int64_t(a.chunk[blockIdx.x]) * kChunk;
  const int64_t end = min(a.n[t], start + kChunk);
  D* p = static_cast<D*>(a.p[t]);
  const D* g = static_cast<const D*>(a.g[t]);
  D* m = static_cast<D*>(a.m[t]);
  D* v = static_cast<D*>(a.v[t]);
  for (int64_t i = start + threadIdx.x; i < end; i += kThreads) {
    A pi = to_opmath(p[i]), mi = to_opmath(m[i]), vi = to_opmath(v[i]);
    optim::adam_update<A>(pi, to_opmath(g[i]), mi, vi, s);
    p[i] = from_opmath<D>(pi), m[i] = from_opmath<D>(mi), v[i] = from_opmath<D>(vi);
  }
}

template <class D>
void launch_adam_chunks(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                        const TensorList& exp_avg_sqs, const optim::AdamStep& s, cudaStream_t stream) {
  AdamChunks a;
  int nt = 0, nb = 0;
  auto launch = [&] {
    adam_chunks_kernel<D><<<nb, kThreads, 0, stream>>>(a, s);
    VT_CUDA_KERNEL_LAUNCH_CHECK();
    nb = 0;
  };
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].numel();
    if (n == 0) continue;
    int slot = nt++;
    a.p[slot] = params[i].data_ptr(), a.g[slot] = grads[i].data_ptr();
    a.m[slot] = exp_avgs[i].data_ptr(), a.v[slot] = exp_avg_sqs[i].data_ptr();
    a.n[slot] = n;
    const int64_t chunks = (n + kChunk - 1) / kChunk;
    for (int64_t c = 0; c < chunks; ++c) {
      a.tensor[nb] = static_cast<unsigned char>(slot);
      a.chunk[nb] = static_cast<int>(c);
      ++nb;
      const bool last = c == chunks - 1;
      if (nb == kMaxBlocks || (last && nt == kMaxTensors)) {
        launch();
        if (last) {
          nt = 0;
        } else {  // the tensor goes on in the next launch, from slot 0
          a.p[0] = a.p[slot], a.g[0] = a.g[slot], a.m[0] = a.m[slot], a.v[0] = a.v[slot], a.n[0] = a.n[slot];
          slot = 0, nt = 1;
        }
      }
    }
  }
  if (nb > 0) launch();
}

void fused_adamw_cuda(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                      const TensorList& exp_avg_sqs, double lr, double beta1, double beta2, double weight_decay,
                      double eps, double step, bool decoupled_weight_decay, bool maximize) {
  optim::fused_adamw_step(params, grads, exp_avgs, exp_avg_sqs, lr, beta1, beta2, weight_decay, eps, step,
                          decoupled_weight_decay, maximize, [&](const optim::AdamStep& s) {
    const int dev = params[0].device().index;
    cuda::DeviceGuard guard(dev);
    cudaStream_t stream = cuda::current_stream(dev).handle();
    VT_DISPATCH_FLOATING(params[0].dtype(), "_fused_adamw_", [&]<class T>() {
      launch_adam_chunks<dev_t<T>>(params, grads, exp_avgs, exp_avg_sqs, s, stream);
    });
  });
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_adamw_", CUDA, fused_adamw_cuda);

}  // namespace vt::cuda_kernels
