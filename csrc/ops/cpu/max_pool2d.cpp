// CPU kernels of vt::_max_pool2d_cpu and its backward. See Note [CPU max pooling].
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ops/ops.h"

namespace vt::cpu {
namespace {

// Note [CPU max pooling]
// max_pool2d on the CPU (float32 / float64, NCHW; vibetensor/nn/_conv.py routes there) as torch computes
// it: each output takes the largest element of its window, the first one in row-major window order on a
// tie, and a NaN wins over every number (the window's last NaN, torch's test); its flat index in the input plane (h * W + w) is kept, so the
// backward adds each output's gradient to that one element, as torch does. Padding and the ceil_mode
// overhang are outside the input and never chosen. Planes (n, c) run in parallel on the OpenMP team.
// The composed path (an amax over a window view) spreads a tie's gradient over the tied elements and
// differentiates the windows' as_strided view by scattering every window element back.

constexpr int64_t kParallelGrain = 16384;  // output elements below which one thread does it all

struct Pool {
  int64_t planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;
};

int64_t out_size(int64_t size, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  const int64_t span = size + 2 * p - d * (k - 1) - 1;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= size + p) --out;  // the last window must start inside the input or left padding
  return out;
}

Pool pool_of(const Tensor& x, const IntList& kernel, const IntList& stride, const IntList& padding,
             const IntList& dilation, bool ceil_mode) {
  VT_CHECK_VALUE(x.dim() == 4, "_max_pool2d_cpu: expected a 4-d (N, C, H, W) input, got ", x.dim(), "-d");
  VT_CHECK_VALUE(kernel.size() == 2 && stride.size() == 2 && padding.size() == 2 && dilation.size() == 2,
                 "_max_pool2d_cpu: expected kernel_size, stride, padding and dilation of two values each");
  VT_CHECK_TYPE(x.dtype() == DType::Float32 || x.dtype() == DType::Float64,
                "_max_pool2d_cpu: expected a float32 or float64 input, got ", x.dtype());
  Pool p{x.size(0) * x.size(1), x.size(2), x.size(3), 0, 0, kernel[0], kernel[1], stride[0], stride[1],
         padding[0], padding[1], dilation[0], dilation[1]};
  VT_CHECK_VALUE(p.kh > 0 && p.kw > 0 && p.sh > 0 && p.sw > 0 && p.dh > 0 && p.dw > 0,
                 "_max_pool2d_cpu: expected positive kernel_size, stride and dilation");
  VT_CHECK_VALUE(p.ph >= 0 && p.pw >= 0 && 2 * p.ph <= p.kh && 2 * p.pw <= p.kw,
                 "_max_pool2d_cpu: padding must be between 0 and half the kernel size, got (", p.ph, ", ", p.pw,
                 ") for kernel_size (", p.kh, ", ", p.kw, ")");
  p.oh = out_size(p.h, p.kh, p.sh, p.ph, p.dh, ceil_mode);
  p.ow = out_size(p.w, p.kw, p.sw, p.pw, p.dw, ceil_mode);
  VT_CHECK_VALUE(p.oh > 0 && p.ow > 0, "_max_pool2d_cpu: the padded input (", p.h + 2 * p.ph, ", ", p.w + 2 * p.pw,
                 ") is smaller than the dilated kernel");
  return p;
}

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
        T best = -std::numeric_limits<T>::infinity();
        int64_t at = -1;
        for (int64_t ky = 0; ky < p.kh; ++ky) {
          const int64_t iy = oy * p.sh - p.ph + ky * p.dh;
          if (iy < 0 || iy >= p.h) continue;
          for (int64_t kx = 0; kx < p.kw; ++kx) {
            const int64_t ix = ox * p.sw - p.pw + kx * p.dw;
            if (ix < 0 || ix >= p.w) continue;
            const T v = xq[iy * p.w + ix];
            if (at < 0 || v > best || std::isnan(v)) {  // torch's test: a NaN wins (its last one)
              best = v;
              at = iy * p.w + ix;
            }
          }
        }
        yq[oy * p.ow + ox] = best;
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
  const Pool p = pool_of(input, kernel, stride, padding, dilation, ceil_mode);
  Tensor x = ops::contiguous(input);
  DimVector out_shape{input.size(0), input.size(1), p.oh, p.ow};
  Tensor y = empty_tensor(out_shape, x.dtype(), x.device());
  Tensor idx = empty_tensor(out_shape, DType::Int64, x.device());
  if (x.dtype() == DType::Float32) forward(x.data<float>(), y.data<float>(), idx.data<int64_t>(), p);
  else forward(x.data<double>(), y.data<double>(), idx.data<int64_t>(), p);
  return {y, idx};
}

// The input's gradient [N, C, H, W]: each output's gradient added at its kept index.
Tensor max_pool2d_cpu_backward(const Tensor& grad, const Tensor& indices, int64_t height, int64_t width) {
  VT_CHECK_VALUE(grad.dim() == 4 && indices.dim() == 4 && std::ranges::equal(grad.sizes(), indices.sizes()),
                 "_max_pool2d_cpu_backward: expected a 4-d gradient of the indices' shape, got ",
                 shape_str(grad.sizes()), " and ", shape_str(indices.sizes()));
  VT_CHECK_TYPE(indices.dtype() == DType::Int64 && (grad.dtype() == DType::Float32 || grad.dtype() == DType::Float64),
                "_max_pool2d_cpu_backward: expected a float32 or float64 gradient and int64 indices, got ",
                grad.dtype(), " and ", indices.dtype());
  VT_CHECK_VALUE(height > 0 && width > 0, "_max_pool2d_cpu_backward: expected a positive input size");
  Tensor g = ops::contiguous(grad), idx = ops::contiguous(indices);
  const int64_t planes = grad.size(0) * grad.size(1), plane_out = grad.size(2) * grad.size(3);
  const int64_t* ip = idx.data<int64_t>();
  for (int64_t i = 0; i < planes * plane_out; ++i)  // indices come from the forward; a foreign one must not write astray
    VT_CHECK_INDEX(ip[i] >= 0 && ip[i] < height * width, "_max_pool2d_cpu_backward: index ", ip[i],
                   " is outside the ", height, "x", width, " input plane");
  Tensor gx = empty_tensor(DimVector{grad.size(0), grad.size(1), height, width}, g.dtype(), g.device());
  if (g.dtype() == DType::Float32) backward(g.data<float>(), ip, gx.data<float>(), planes, height * width, plane_out);
  else backward(g.data<double>(), ip, gx.data<double>(), planes, height * width, plane_out);
  return gx;
}

}  // namespace

VT_REGISTER_KERNEL("vt::_max_pool2d_cpu", CPU, max_pool2d_cpu);
VT_REGISTER_KERNEL("vt::_max_pool2d_cpu_backward", CPU, max_pool2d_cpu_backward);

}  // namespace vt::cpu
