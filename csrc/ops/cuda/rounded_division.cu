// CUDA kernels of div(rounding_mode='trunc' | 'floor') and remainder (mirrors ops/cpu/rounded_division.cpp).
// An integer division by zero is not refused here (that would read the divisor back, a host sync); its
// result is whatever the device's integer division gives, as in torch's CUDA kernels.
#include "ops/cuda/elementwise.cuh"
#include "ops/rounded_division.h"
#include "ops/rounded_division_args.h"

namespace vt::cuda_kernels {
namespace {

struct FloorDivF {
  template <class M> __device__ M operator()(M x, M y) const { return rounding::floor_div(x, y); }
};
struct TruncDivF {
  template <class M> __device__ M operator()(M x, M y) const { return rounding::trunc_div(x, y); }
};
struct RemainderF {
  template <class M> __device__ M operator()(M x, M y) const { return rounding::remainder(x, y); }
};

Tensor div_rounded_cuda(const Tensor& a, const Tensor& b, const std::string& rounding_mode) {
  RoundingMode mode = parse_rounding_mode(rounding_mode);
  rounded_result_dtype("div", a, b);
  return mode == RoundingMode::Floor ? binary("div", a, b, FloorDivF{}) : binary("div", a, b, TruncDivF{});
}

Tensor remainder_cuda(const Tensor& a, const Tensor& b) {
  rounded_result_dtype("remainder", a, b);
  return binary("remainder", a, b, RemainderF{});
}

}  // namespace

VT_REGISTER_KERNEL("vt::div_rounded", CUDA, div_rounded_cuda);
VT_REGISTER_KERNEL("vt::remainder", CUDA, remainder_cuda);

}  // namespace vt::cuda_kernels
