// CUDA kernels of vt::_max_pool2d (one thread per output) and its backward (a gather, one thread per input
// element: deterministic). See Note [Max pooling] (ops/max_pool_args.h).
#include "ops/cuda/device_types.cuh"
#include "ops/cuda/index_check.cuh"
#include "ops/cuda/kernel_args.cuh"
#include "ops/max_pool_args.h"

namespace vt::cuda_kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536;  // grid-stride beyond this

unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 1 ? 1 : (b > kMaxBlocks ? kMaxBlocks : b));
}

template <class D>
__global__ void max_pool2d_kernel(const D* __restrict__ x, D* __restrict__ y, int64_t* __restrict__ idx,
                                  MaxPool2dGeometry p) {
  const int64_t plane_out = p.oh * p.ow, total = p.planes * plane_out, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
    const int64_t q = e / plane_out, o = e - q * plane_out, oy = o / p.ow, ox = o - oy * p.ow;
    const D* xq = x + q * p.h * p.w;
    const int64_t at = max_pool_window_argmax(xq, p, oy, ox, [](D v) { return to_opmath(v); });
    y[e] = xq[at];  // the input's own bits: pooling never rounds
    idx[e] = at;
  }
}

// Thread e < planes * H * W: the input element e sums, in (oy, ox) order, the gradients of the outputs whose
// window can cover it and whose index names it. Threads e < planes * OH * OW also check that index e lies
// in output e's window.
template <class D>
__global__ void max_pool2d_backward_kernel(const D* __restrict__ gy, const int64_t* __restrict__ idx,
                                           D* __restrict__ gx, MaxPool2dGeometry p, DeviceIndexCheck chk) {
  using A = dev_opmath_t<D>;
  const int64_t plane_in = p.h * p.w, plane_out = p.oh * p.ow;
  const int64_t in_total = p.planes * plane_in, out_total = p.planes * plane_out;
  const int64_t total = in_total > out_total ? in_total : out_total, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += step) {
    if (e < out_total && !max_pool_index_in_window(p, e % plane_out, idx[e])) chk.report(idx[e]);
    if (e >= in_total) continue;
    const int64_t q = e / plane_in, r = e - q * plane_in, iy = r / p.w, ix = r - iy * p.w;
    // Windows covering row iy start at oy * sh - ph in [iy - (kh - 1) * dh, iy].
    const int64_t ylo = iy + p.ph - (p.kh - 1) * p.dh, xlo = ix + p.pw - (p.kw - 1) * p.dw;
    const int64_t oy0 = ylo <= 0 ? 0 : (ylo + p.sh - 1) / p.sh, ox0 = xlo <= 0 ? 0 : (xlo + p.sw - 1) / p.sw;
    const int64_t oy1 = min((iy + p.ph) / p.sh, p.oh - 1), ox1 = min((ix + p.pw) / p.sw, p.ow - 1);
    const int64_t* iq = idx + q * plane_out;
    const D* gq = gy + q * plane_out;
    A acc = A(0);
    for (int64_t oy = oy0; oy <= oy1; ++oy)
      for (int64_t ox = ox0; ox <= ox1; ++ox)
        if (iq[oy * p.ow + ox] == r) acc += to_opmath(gq[oy * p.ow + ox]);
    gx[e] = from_opmath<D>(acc);
  }
}

std::tuple<Tensor, Tensor> max_pool2d_cuda(const Tensor& input, const IntList& kernel, const IntList& stride,
                                           const IntList& padding, const IntList& dilation, bool ceil_mode) {
  check_cuda("_max_pool2d", input);
  const MaxPool2dGeometry p = max_pool2d_geometry(input, kernel, stride, padding, dilation, ceil_mode);
  Tensor x = contiguous_as(input, input.dtype());
  DimVector out_shape{input.size(0), input.size(1), p.oh, p.ow};
  Tensor y = empty_tensor(out_shape, x.dtype(), x.device());
  Tensor idx = empty_tensor(out_shape, DType::Int64, x.device());
  if (y.numel() == 0) return {y, idx};
  const int dev = input.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  VT_DISPATCH_FLOATING(x.dtype(), "_max_pool2d", [&]<class T>() {
    using D = dev_t<T>;
    max_pool2d_kernel<D><<<blocks_for(y.numel()), kThreads, 0, stream>>>(
        static_cast<const D*>(x.data_ptr()), static_cast<D*>(y.data_ptr()), static_cast<int64_t*>(idx.data_ptr()), p);
    VT_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {y, idx};
}

Tensor max_pool2d_backward_cuda(const Tensor& grad, const Tensor& indices, int64_t height, int64_t width,
                                const IntList& kernel, const IntList& stride, const IntList& padding,
                                const IntList& dilation) {
  check_cuda("_max_pool2d_backward", grad);
  const MaxPool2dGeometry p =
      max_pool2d_backward_geometry(grad, indices, height, width, kernel, stride, padding, dilation);
  Tensor g = contiguous_as(grad, grad.dtype()), idx = contiguous_as(indices, DType::Int64);
  Tensor gx = empty_tensor(DimVector{grad.size(0), grad.size(1), height, width}, g.dtype(), g.device());
  if (gx.numel() == 0) return gx;
  const int dev = grad.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  IndexCheck check("_max_pool2d_backward", grad.device());
  const int64_t total = gx.numel() > g.numel() ? gx.numel() : g.numel();
  VT_DISPATCH_FLOATING(g.dtype(), "_max_pool2d_backward", [&]<class T>() {
    using D = dev_t<T>;
    max_pool2d_backward_kernel<D><<<blocks_for(total), kThreads, 0, stream>>>(
        static_cast<const D*>(g.data_ptr()), static_cast<const int64_t*>(idx.data_ptr()), static_cast<D*>(gx.data_ptr()),
        p, check.device_side());
    VT_CUDA_KERNEL_LAUNCH_CHECK();
  });
  check.raise_if_bad("an index inside its output's window of the ", height, "x", width, " input plane");
  return gx;
}

}  // namespace

VT_REGISTER_KERNEL("vt::_max_pool2d", CUDA, max_pool2d_cuda);
VT_REGISTER_KERNEL("vt::_max_pool2d_backward", CUDA, max_pool2d_backward_cuda);

}  // namespace vt::cuda_kernels
