// CPU kernel of sort: each row along dim ordered on its own, with the positions it came from.
#include <algorithm>
#include <numeric>
#include <vector>

#include "ops/reduction_util.h"
#include "ops/sort_args.h"

namespace vt::cpu {
namespace {

// NaN compares above every number, as in torch: last ascending, first descending. Ties keep their
// order when `stable` (std::stable_sort); otherwise any order of equal elements is a valid sort.
template <class A> bool nan_last_less(A x, A y) { return (x < y) || (x == x && y != y); }

template <class T>
void sort_rows(const T* x, T* values, int64_t* indices, const DimLayout& L, bool descending, bool stable) {
  using A = opmath_t<T>;
  int64_t rows = L.O * L.I, N = L.N, I = L.I;
#pragma omp parallel if (rows > 1 && rows * N >= 32768)
  {
    std::vector<int64_t> order(static_cast<size_t>(N));
    std::vector<A> key(static_cast<size_t>(N));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      int64_t base = (r / I) * N * I + r % I;
      for (int64_t k = 0; k < N; ++k) key[size_t(k)] = A(x[base + k * I]);
      std::iota(order.begin(), order.end(), int64_t(0));
      auto less = [&](int64_t a, int64_t b) {
        return descending ? nan_last_less(key[size_t(b)], key[size_t(a)]) : nan_last_less(key[size_t(a)], key[size_t(b)]);
      };
      if (stable) std::stable_sort(order.begin(), order.end(), less);
      else std::sort(order.begin(), order.end(), less);
      for (int64_t k = 0; k < N; ++k) {
        values[base + k * I] = x[base + order[size_t(k)] * I];
        indices[base + k * I] = order[size_t(k)];
      }
    }
  }
}

std::tuple<Tensor, Tensor> sort_cpu(const Tensor& self, int64_t dim, bool descending, bool stable) {
  VT_CHECK(self.device().is_cpu(), "sort: the CPU kernel got a tensor on ", self.device());
  ScanDim sd = scan_dim(self, dim, "sort");
  Tensor x = ops::contiguous(self);
  Tensor values = empty_tensor(DimVector(self.sizes()), self.dtype(), self.device());
  Tensor indices = empty_tensor(DimVector(self.sizes()), DType::Int64, self.device());
  if (self.numel() == 0) return {values, indices};
  VT_DISPATCH_ALL(self.dtype(), "sort", [&]<class T>() {
    sort_rows<T>(x.data<T>(), values.data<T>(), indices.data<int64_t>(), sd.layout, descending, stable);
  });
  return {values, indices};
}

}  // namespace

VT_REGISTER_KERNEL("vt::sort", CPU, sort_cpu);

}  // namespace vt::cpu
