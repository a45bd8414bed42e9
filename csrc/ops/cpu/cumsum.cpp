// CPU kernel of cumsum: running sums along dim, each row on its own.
#include "ops/elementwise_util.h"
#include "ops/sort_args.h"

namespace vt::cpu {
namespace {

// The running sum is held in double for every floating dtype (int64 for integers), as torch's CPU
// kernel does: float32 partial sums would drift from torch's on long rows.
template <class T> using scan_acc_t = std::conditional_t<std::is_floating_point_v<opmath_t<T>>, double, int64_t>;

template <class T>
void cumsum_rows(const T* x, T* out, const DimLayout& L) {
  using A = scan_acc_t<T>;
  int64_t rows = L.O * L.I, N = L.N, I = L.I;
#pragma omp parallel for schedule(static) if (rows > 1 && rows * N >= 32768)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t base = (r / I) * N * I + r % I;
    A acc = A(0);
    for (int64_t k = 0; k < N; ++k) {
      acc += A(opmath_t<T>(x[base + k * I]));
      out[base + k * I] = T(opmath_t<T>(acc));
    }
  }
}

Tensor cumsum_cpu(const Tensor& self, int64_t dim, std::optional<DType> dtype) {
  VT_CHECK(self.device().is_cpu(), "cumsum: the CPU kernel got a tensor on ", self.device());
  ScanDim sd = scan_dim(self, dim, "cumsum");
  DType rt = sum_result_dtype(self.dtype(), dtype);
  VT_CHECK_TYPE(rt != DType::Bool, "cumsum: dtype=torch.bool is not supported (running sums need a numeric dtype)");
  Tensor x = ops::contiguous(cast_to(self, rt));
  Tensor out = empty_tensor(DimVector(self.sizes()), rt, self.device());
  if (self.numel() == 0) return out;
  VT_DISPATCH_NUMERIC(rt, "cumsum", [&]<class T>() { cumsum_rows<T>(x.data<T>(), out.data<T>(), sd.layout); });
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::cumsum", CPU, cumsum_cpu);

}  // namespace vt::cpu
