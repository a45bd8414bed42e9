// CPU kernels of triu / tril: keep one side of a diagonal of the last two dims, zero the rest.
#include <omp.h>

#include <cstring>

#include "ops/elementwise_util.h"
#include "ops/triangular_args.h"

namespace vt::cpu {
namespace {

// Row i of a (rows x cols) matrix keeps columns [lo, hi) and zeroes the others. Zero is the
// all-zero bit pattern for every dtype, so rows move as raw bytes.
template <bool Upper>
Tensor triangle_cpu(const char* op, const Tensor& self, int64_t diagonal) {
  const TriangleShape m = check_triangle_args(op, self);
  const int64_t rows = m.rows, cols = m.cols;
  Tensor src = self.is_contiguous() ? self : ops::clone(self);
  Tensor out = empty_tensor(DimVector(self.sizes()), self.dtype(), self.device());
  if (out.numel() == 0) return out;
  int64_t nrows = out.numel() / cols;
  size_t es = size_t(itemsize(self.dtype()));
  const char* in = static_cast<const char*>(src.data_ptr());
  char* o = static_cast<char*>(out.data_ptr());
#pragma omp parallel for schedule(static) if (out.numel() > 32768 && !omp_in_parallel())
  for (int64_t r = 0; r < nrows; ++r) {
    int64_t i = r % rows;
    // triu keeps j - i >= diagonal, tril keeps j - i <= diagonal.
    int64_t lo = Upper ? std::clamp<int64_t>(i + diagonal, 0, cols) : 0;
    int64_t hi = Upper ? cols : std::clamp<int64_t>(i + diagonal + 1, 0, cols);
    const char* ir = in + size_t(r * cols) * es;
    char* orow = o + size_t(r * cols) * es;
    std::memset(orow, 0, size_t(lo) * es);
    std::memcpy(orow + size_t(lo) * es, ir + size_t(lo) * es, size_t(hi - lo) * es);
    std::memset(orow + size_t(hi) * es, 0, size_t(cols - hi) * es);
  }
  return out;
}

Tensor triu_cpu(const Tensor& self, int64_t diagonal) { return triangle_cpu<true>("triu", self, diagonal); }
Tensor tril_cpu(const Tensor& self, int64_t diagonal) { return triangle_cpu<false>("tril", self, diagonal); }

}  // namespace

VT_REGISTER_KERNEL("vt::triu", CPU, triu_cpu);
VT_REGISTER_KERNEL("vt::tril", CPU, tril_cpu);

}  // namespace vt::cpu
