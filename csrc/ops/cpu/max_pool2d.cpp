// CPU kernels of vt::_max_pool2d and its backward. See Note [Max pooling] (ops/max_pool_args.h).
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "ops/max_pool_args.h"

namespace vt::cpu {
namespace {

constexpr int64_t kParallelGrain = 16384;  // output elements below which one thread does it all

using Pool = MaxPool2dGeometry;

template <class T>
void forward(const T* x, T* y, int64_t* idx, const Pool& p) {
  const int64_t plane_in = p.h * p.w, plane_out = p.oh * p.ow;
#pragma omp parallel for schedule(static) if (p.planes * plane_out >= kParallelGrain && !omp_in_parallel())
  for (int64_t q = 0; q < p.planes; ++q) {
    const T* xq = x + q * plane_in;
    T* yq = y + q * plane_out;
    int64_t* iq = idx + q * plane_out;
    for (int64_t oy = 0; oy < p.oh; ++oy) {
      for (int64_t ox = 0; ox < p.ow; ++ox) {
        const int64_t at = max_pool_window_argmax(xq, p, oy, ox, [](T v) { return v; });
        yq[oy * p.ow + ox] = xq[at];
        iq[oy * p.ow + ox] = at;
      }
    }
  }
}

template <class T>
void backward(const T* gy, const int64_t* idx, T* gx, int64_t planes, int64_t plane_in, int64_t plane_out) {
#pragma omp parallel for schedule(static) if (planes * plane_out >= kParallelGrain && !omp_in_parallel())
  for (int64_t q = 0; q < planes; ++q) {
    T* gq = gx + q * plane_in;
    std::memset(static_cast<void*>(gq), 0, sizeof(T) * size_t(plane_in));
    const T* g = gy + q * plane_out;
    const int64_t* iq = idx + q * plane_out;
    for (int64_t o = 0; o < plane_out; ++o) gq[iq[o]] += g[o];
  }
}

std::tuple<Tensor, Tensor> max_pool2d_cpu(const Tensor& input, const IntList& kernel, const IntList& stride,
                                          const IntList& padding, const IntList& dilation, bool ceil_mode) {
  const Pool p = max_pool2d_geometry(input, kernel, stride, padding, dilation, ceil_mode);
  VT_CHECK_TYPE(input.dtype() == DType::Float32 || input.dtype() == DType::Float64,
                "_max_pool2d: the CPU kernel takes float32 or float64 inputs, got ", input.dtype());
  Tensor x = ops::contiguous(input);
  DimVector out_shape{input.size(0), input.size(1), p.oh, p.ow};
  Tensor y = empty_tensor(out_shape, x.dtype(), x.device());
  Tensor idx = empty_tensor(out_shape, DType::Int64, x.device());
  if (x.dtype() == DType::Float32) forward(x.data<float>(), y.data<float>(), idx.data<int64_t>(), p);
  else forward(x.data<double>(), y.data<double>(), idx.data<int64_t>(), p);
  return {y, idx};
}

// The input's gradient [N, C, H, W]: each output's gradient added at its kept index.
Tensor max_pool2d_cpu_backward(const Tensor& grad, const Tensor& indices, int64_t height, int64_t width,
                               const IntList& kernel, const IntList& stride, const IntList& padding,
                               const IntList& dilation) {
  const Pool p = max_pool2d_backward_geometry(grad, indices, height, width, kernel, stride, padding, dilation);
  VT_CHECK_TYPE(grad.dtype() == DType::Float32 || grad.dtype() == DType::Float64,
                "_max_pool2d_backward: the CPU kernel takes a float32 or float64 gradient, got ", grad.dtype());
  Tensor g = ops::contiguous(grad), idx = ops::contiguous(indices);
  const int64_t planes = grad.size(0) * grad.size(1), plane_out = grad.size(2) * grad.size(3);
  const int64_t* ip = idx.data<int64_t>();
  for (int64_t i = 0; i < planes * plane_out; ++i)  // indices come from the forward; a foreign one must not write astray
    VT_CHECK_INDEX(max_pool_index_in_window(p, i % plane_out, ip[i]), "_max_pool2d_backward: index ", ip[i],
                   " is not inside its output's window of the ", height, "x", width, " input plane");
  Tensor gx = empty_tensor(DimVector{grad.size(0), grad.size(1), height, width}, g.dtype(), g.device());
  if (g.dtype() == DType::Float32) backward(g.data<float>(), ip, gx.data<float>(), planes, height * width, plane_out);
  else backward(g.data<double>(), ip, gx.data<double>(), planes, height * width, plane_out);
  return gx;
}

}  // namespace

VT_REGISTER_KERNEL("vt::_max_pool2d", CPU, max_pool2d_cpu);
VT_REGISTER_KERNEL("vt::_max_pool2d_backward", CPU, max_pool2d_cpu_backward);

}  // namespace vt::cpu
