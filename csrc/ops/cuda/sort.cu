// CUDA kernel of sort (the CPU kernel's results: ops/cpu/sort.cpp), from two stable radix sorts (Note [CUDA sort]).
#include <cub/device/device_radix_sort.cuh>

#include <cmath>
#include <limits>

#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/stream.h"
#include "ops/cuda/device_types.cuh"
#include "ops/cuda/kernel_args.cuh"
#include "ops/sort_args.h"

namespace vt::cuda_kernels {
namespace {

// Note [CUDA sort]
// Every row along dim is sorted on its own by two stable radix sorts (CUB) over all rows at once, with
// dim made the last (contiguous) dim first. The first sorts every element by value (descending for
// descending=True), carrying its flat position; the second sorts those positions by their row. The second
// is stable, so within a row the positions stay in value order, and equal values in the order of their
// positions: a stable sort, which stable=True asks and stable=False allows. A radix sort orders floats by
// their bits, which puts NaN after +inf (last ascending, first descending, as torch) provided its sign bit
// is clear: NaNs are made the one canonical NaN first.

int bits_for(int64_t count) {
  int b = 1;
  while (b < 63 && (int64_t(1) << b) < count) ++b;
  return b;
}

template <class D>
void radix_sort_pairs(const D* keys, D* keys_out, const int64_t* vals, int64_t* vals_out, int64_t n, bool descending,
                      int end_bit, const Device& device, cudaStream_t stream) {
  size_t temp_bytes = 0;
  auto run = [&](void* temp) {
    if (descending)
      return cub::DeviceRadixSort::SortPairsDescending(temp, temp_bytes, keys, keys_out, vals, vals_out, int(n), 0,
                                                       end_bit, stream);
    return cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys, keys_out, vals, vals_out, int(n), 0, end_bit, stream);
  };
  VT_CUDA_CHECK(run(nullptr));
  Tensor temp = empty_tensor({int64_t((temp_bytes + 7) / 8)}, DType::Int64, device);
  VT_CUDA_CHECK(run(temp.data_ptr()));
}

std::tuple<Tensor, Tensor> sort_cuda(const Tensor& self, int64_t dim, bool descending, bool stable) {
  const char* op = "sort";
  check_cuda(op, self);
  ScanDim sd = scan_dim(self, dim, op);
  if (self.numel() == 0)
    return {empty_tensor(DimVector(self.sizes()), self.dtype(), self.device()),
            empty_tensor(DimVector(self.sizes()), DType::Int64, self.device())};
  NoGradGuard no_grad;
  int64_t last = std::max<int64_t>(self.dim(), 1) - 1, N = sd.layout.N;
  Tensor rows_last = self.dim() ? ops::transpose(self, sd.dim, last) : ops::reshape(self, {1});
  Tensor x = ops::contiguous(rows_last);
  if (is_floating(x.dtype()))
    x = ops::where(ops::ne(x, x), ops::scalar_tensor(Scalar(std::numeric_limits<double>::quiet_NaN()), x.dtype(),
                                                     x.device()), x);
  int64_t n = x.numel();
  VT_CHECK_VALUE(n < (int64_t(1) << 31), op, ": expected fewer than 2^31 elements on CUDA, got ", n);
  int dev = self.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  Tensor positions = ops::arange(Scalar(int64_t(0)), Scalar(n), Scalar(int64_t(1)), DType::Int64, self.device());
  Tensor by_value = empty_tensor({n}, DType::Int64, self.device());
  Tensor sorted_keys = empty_tensor({n}, x.dtype(), self.device());
  VT_DISPATCH_ALL(x.dtype(), op, [&]<class T>() {
    using D = dev_t<T>;
    radix_sort_pairs<D>(static_cast<const D*>(x.data_ptr()), static_cast<D*>(sorted_keys.data_ptr()),
                        static_cast<const int64_t*>(positions.data_ptr()), static_cast<int64_t*>(by_value.data_ptr()), n,
                        descending, int(sizeof(D) * 8), self.device(), stream);
  });
  Tensor rows = ops::div_rounded(by_value, ops::wrap_scalar(Scalar(N)), "floor");
  Tensor sorted_rows = empty_tensor({n}, DType::Int64, self.device());
  Tensor order = empty_tensor({n}, DType::Int64, self.device());
  radix_sort_pairs<int64_t>(static_cast<const int64_t*>(rows.data_ptr()), static_cast<int64_t*>(sorted_rows.data_ptr()),
                            static_cast<const int64_t*>(by_value.data_ptr()), static_cast<int64_t*>(order.data_ptr()), n,
                            false, bits_for(n / N), self.device(), stream);
  IntList shape(x.sizes().begin(), x.sizes().end());
  Tensor values = ops::reshape(ops::index_select(ops::reshape(x, {n}), 0, order), shape);
  Tensor indices = ops::reshape(ops::remainder(order, ops::wrap_scalar(Scalar(N))), shape);
  if (!self.dim()) return {ops::reshape(values, {}), ops::reshape(indices, {})};
  return {ops::contiguous(ops::transpose(values, sd.dim, last)), ops::contiguous(ops::transpose(indices, sd.dim, last))};
}

}  // namespace

VT_REGISTER_KERNEL("vt::sort", CUDA, sort_cuda);

}  // namespace vt::cuda_kernels
