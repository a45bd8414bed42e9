// CUDA kernel of cat (checks and windows: ops/cat_plan.h). See Note [CUDA cat].
#include <algorithm>
#include <vector>

#include "ops/cat_plan.h"
#include "ops/cuda/loops.cuh"

namespace vt::cuda_kernels {
namespace {

// Note [CUDA cat]
// The output is fresh and contiguous: seen as [rows, out_cols] with rows = the product of the
// sizes before dim, input i fills columns [col_offset_i, col_offset_i + cols_i) of every row.
// Inputs that are contiguous and already of the output's dtype (the usual case) are copied
// together, up to kCatBatch per launch (blockIdx.y picks the input), as raw units of the widest
// of 16/8/4/2/1 bytes that divides every address and row length of the batch. Any other input
// (strided, or of another dtype, promoted as on the CPU) is copied into its window by copy_, which
// converts and follows strides on the device.
constexpr int kCatBatch = 64;
constexpr int kCatThreads = 256;

struct CatBatch {
  const char* src[kCatBatch];
  int64_t cols[kCatBatch];        // units per row of input i
  int64_t col_offset[kCatBatch];  // units from the start of an output row to input i's first column
  int64_t numel[kCatBatch];       // units of input i
  int count = 0;
};

template <class W> __global__ void __launch_bounds__(kCatThreads) cat_kernel(char* out, int64_t out_cols, CatBatch b) {
  const int i = blockIdx.y;
  const W* src = reinterpret_cast<const W*>(b.src[i]);
  W* o = reinterpret_cast<W*>(out);
  const int64_t cols = b.cols[i], n = b.numel[i], off = b.col_offset[i];
  const int64_t step = int64_t(gridDim.x) * kCatThreads;
  for (int64_t j = int64_t(blockIdx.x) * kCatThreads + threadIdx.x; j < n; j += step) {
    int64_t r = j / cols;
    o[r * out_cols + off + (j - r * cols)] = src[j];
  }
}

// Byte geometry of one batched input before the unit is chosen.
struct CatInput {
  const char* src;
  int64_t cols_bytes, offset_bytes, numel_bytes;
};

void launch_cat_batch(const Tensor& out, int64_t out_row_bytes, const std::vector<CatInput>& in) {
  uint64_t common = uint64_t(out_row_bytes) | uint64_t(reinterpret_cast<uintptr_t>(out.data_ptr()));
  int64_t most = 0;
  for (const CatInput& c : in) {
    common |= uint64_t(c.cols_bytes) | uint64_t(c.offset_bytes) | uint64_t(reinterpret_cast<uintptr_t>(c.src));
    most = std::max(most, c.numel_bytes);
  }
  int64_t unit = 16;
  while (unit > 1 && (common % uint64_t(unit)) != 0) unit /= 2;
  CatBatch b;
  for (const CatInput& c : in) {
    b.src[b.count] = c.src;
    b.cols[b.count] = c.cols_bytes / unit;
    b.col_offset[b.count] = c.offset_bytes / unit;
    b.numel[b.count] = c.numel_bytes / unit;
    ++b.count;
  }
  int64_t blocks = std::min<int64_t>((most / unit + kCatThreads - 1) / kCatThreads, 4096);
  dim3 grid(unsigned(std::max<int64_t>(blocks, 1)), unsigned(b.count));
  cudaStream_t s = cuda::current_stream(out.device().index).handle();
  char* o = static_cast<char*>(out.data_ptr());
  int64_t oc = out_row_bytes / unit;
  switch (unit) {
    case 16: cat_kernel<uint4><<<grid, kCatThreads, 0, s>>>(o, oc, b); break;
    case 8: cat_kernel<uint2><<<grid, kCatThreads, 0, s>>>(o, oc, b); break;
    case 4: cat_kernel<uint32_t><<<grid, kCatThreads, 0, s>>>(o, oc, b); break;
    case 2: cat_kernel<uint16_t><<<grid, kCatThreads, 0, s>>>(o, oc, b); break;
    default: cat_kernel<uint8_t><<<grid, kCatThreads, 0, s>>>(o, oc, b); break;
  }
  VT_CUDA_KERNEL_LAUNCH_CHECK();
}

Tensor cat_cuda(const TensorList& tensors, int64_t dim) {
  CatPlan plan = plan_cat(tensors, dim);
  const Tensor& out = plan.out;
  if (out.numel() == 0) return out;
  VT_CHECK(out.device().is_cuda(), "cat: the CUDA kernel got tensors on ", out.device());
  cuda::DeviceGuard g(out.device().index);
  int64_t es = itemsize(out.dtype());
  int64_t inner = 1;
  for (int64_t k = plan.dim + 1; k < out.dim(); ++k) inner *= out.sizes()[k];
  int64_t out_row_bytes = out.sizes()[plan.dim] * inner * es;
  std::vector<CatInput> batch;
  for (const CatPlan::Piece& p : plan.pieces) {
    const Tensor& t = *p.input;
    if (t.dtype() != out.dtype() || !t.is_contiguous()) {
      ops::copy_(p.window, t, false);
      continue;
    }
    batch.push_back({static_cast<const char*>(t.data_ptr()), t.sizes()[plan.dim] * inner * es, p.offset * inner * es,
                     t.numel() * es});
    if (int(batch.size()) == kCatBatch) {
      launch_cat_batch(out, out_row_bytes, batch);
      batch.clear();
    }
  }
  if (!batch.empty()) launch_cat_batch(out, out_row_bytes, batch);
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::cat", CUDA, cat_cuda);

}  // namespace vt::cuda_kernels
