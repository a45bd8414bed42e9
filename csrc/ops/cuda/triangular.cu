// CUDA kernels of triu / tril: keep one side of a diagonal of the last two dims, zero the rest.
#include "ops/cuda/offset_loops.cuh"
#include "ops/elementwise_util.h"
#include "ops/triangular_args.h"

namespace vt::cuda_kernels {
namespace {

// Operands: 0 = the output (contiguous, so `linear` names row and column), 1 = self (any strides).
// Zero is the all-zero bit pattern of every dtype, so elements move as raw units.
template <class U, bool Upper> struct TriangleF {
  char* out;
  const char* src;
  int64_t rows, cols, diagonal;
  __device__ void operator()(int64_t linear, const int64_t (&o)[2]) const {
    int64_t q = linear / cols;
    int64_t j = linear - q * cols, i = q % rows;
    // triu keeps j - i >= diagonal, tril keeps j - i <= diagonal.
    bool keep = Upper ? j - i >= diagonal : j - i <= diagonal;
    *reinterpret_cast<U*>(out + o[0]) = keep ? *reinterpret_cast<const U*>(src + o[1]) : U(0);
  }
};

template <bool Upper> Tensor triangle_cuda(const char* op, const Tensor& self, int64_t diagonal) {
  const TriangleShape m = check_triangle_args(op, self);
  const int64_t rows = m.rows, cols = m.cols;
  Tensor out = empty_tensor(DimVector(self.sizes()), self.dtype(), self.device());
  if (out.numel() == 0) return out;
  dispatch_bytes(itemsize(self.dtype()), [&]<class U>() {
    TriangleF<U, Upper> f{static_cast<char*>(out.data_ptr()), static_cast<const char*>(self.data_ptr()), rows, cols, diagonal};
    launch_with_offsets<2>(out, {&self}, f);
  });
  return out;
}

Tensor triu_cuda(const Tensor& self, int64_t diagonal) { return triangle_cuda<true>("triu", self, diagonal); }
Tensor tril_cuda(const Tensor& self, int64_t diagonal) { return triangle_cuda<false>("tril", self, diagonal); }

}  // namespace

VT_REGISTER_KERNEL("vt::triu", CUDA, triu_cuda);
VT_REGISTER_KERNEL("vt::tril", CUDA, tril_cuda);

}  // namespace vt::cuda_kernels
