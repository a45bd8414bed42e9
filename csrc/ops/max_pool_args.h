#pragma once
// Geometry and argument checks of vt::_max_pool2d and its backward, shared by the CPU and CUDA kernels.
// See Note [Max pooling].
#include <algorithm>
#include <cmath>

#include "core/host_device.h"
#include "ops/ops.h"
#include "ops/window_size.h"

namespace vt {

// Note [Max pooling]
// max_pool2d (NCHW; vibetensor/nn/_conv.py routes floating inputs of the CPU and of CUDA here) as torch
// computes it: each output takes the largest element of its window, the first one in row-major window
// order on a tie, and a NaN wins over every number (the window's last NaN, torch's test); its flat index in
// the input plane (h * W + w) is kept, so the backward adds each output's gradient to that one element, as
// torch does. Padding and the ceil_mode overhang are outside the input and never chosen.
// - CPU (ops/cpu/max_pool2d.cpp): planes (n, c) run in parallel on the OpenMP team; the backward scatters.
// - CUDA (ops/cuda/max_pool2d.cu): one thread per output forward. The backward is a gather, one thread per
//   input element over the outputs whose windows can cover it, adding those whose index names it: no
//   atomics, so overlapping windows (kernel 3, stride 2) sum in a fixed order and the result is bitwise
//   reproducible, where a scatter with atomicAdd would not be.
// The composed path this replaces (an amax over a window view) spread a tie's gradient over the tied
// elements and differentiated the windows' as_strided view by scattering every window element back.

struct MaxPool2dGeometry {
  int64_t planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;
};

// The flat index (iy * W + ix) of output (oy, ox)'s maximum in one input plane, by torch's rule: the first
// largest element in row-major window order, a NaN over every number (the window's last NaN). `key` gives
// the value compared (the 16-bit floats compare as float). Every window holds an input element (the
// geometry's checks: every_window_holds_input), so the index is never -1.
template <class T, class Key>
VT_HOST_DEVICE int64_t max_pool_window_argmax(const T* plane, const MaxPool2dGeometry& p, int64_t oy, int64_t ox,
                                              Key key) {
  decltype(key(plane[0])) best{};
  int64_t at = -1;
  for (int64_t ky = 0; ky < p.kh; ++ky) {
    const int64_t iy = oy * p.sh - p.ph + ky * p.dh;
    if (iy < 0 || iy >= p.h) continue;
    for (int64_t kx = 0; kx < p.kw; ++kx) {
      const int64_t ix = ox * p.sw - p.pw + kx * p.dw;
      if (ix < 0 || ix >= p.w) continue;
      const auto v = key(plane[iy * p.w + ix]);
#if defined(__CUDA_ARCH__)
      const bool nan = isnan(v);
#else
      const bool nan = std::isnan(v);
#endif
      if (at < 0 || v > best || nan) best = v, at = iy * p.w + ix;
    }
  }
  return at;
}

// Whether flat index r (in the input plane) is an element of output o's window (o = oy * OW + ox): the
// backward's check on indices that did not come from the forward.
VT_HOST_DEVICE inline bool max_pool_index_in_window(const MaxPool2dGeometry& p, int64_t o, int64_t r) {
  if (r < 0 || r >= p.h * p.w) return false;
  const int64_t oy = o / p.ow, ox = o - oy * p.ow;
  const int64_t dy = r / p.w - (oy * p.sh - p.ph), dx = r % p.w - (ox * p.sw - p.pw);
  return dy >= 0 && dy % p.dh == 0 && dy / p.dh < p.kh && dx >= 0 && dx % p.dw == 0 && dx / p.dw < p.kw;
}

// Whether every window along one dimension holds an input element. A dilated window can straddle a small
// input (kernel 2, dilation 3, padding 1 over 2 rows: rows -1 and 2), where torch returns -inf and an index
// outside the plane; vibetensor refuses it.
inline bool every_window_holds_input(int64_t size, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d) {
  for (int64_t o = 0; o < out; ++o) {
    bool holds = false;
    for (int64_t j = 0; j < k && !holds; ++j) holds = o * s - p + j * d >= 0 && o * s - p + j * d < size;
    if (!holds) return false;
  }
  return true;
}

// kernel_size, stride and dilation positive, padding >= 0, each below 2^31 (so no window arithmetic on
// int64 overflows).
inline void check_window_ranges(const char* op, const MaxPool2dGeometry& p) {
  constexpr int64_t kMax = int64_t(1) << 31;
  for (int64_t v : {p.kh, p.kw, p.sh, p.sw, p.dh, p.dw})
    VT_CHECK_VALUE(v > 0 && v < kMax, op, ": expected kernel_size, stride and dilation in [1, 2^31), got ", v);
  for (int64_t v : {p.ph, p.pw})
    VT_CHECK_VALUE(v >= 0 && v < kMax, op, ": expected padding in [0, 2^31), got ", v);
}

inline MaxPool2dGeometry max_pool2d_geometry(const Tensor& x, const IntList& kernel, const IntList& stride,
                                             const IntList& padding, const IntList& dilation, bool ceil_mode) {
  VT_CHECK_VALUE(x.dim() == 4, "_max_pool2d: expected a 4-d (N, C, H, W) input, got ", x.dim(), "-d");
  VT_CHECK_VALUE(kernel.size() == 2 && stride.size() == 2 && padding.size() == 2 && dilation.size() == 2,
                 "_max_pool2d: expected kernel_size, stride, padding and dilation of two values each");
  VT_CHECK_TYPE(is_floating(x.dtype()), "_max_pool2d: expected a floating point input, got ", x.dtype());
  MaxPool2dGeometry p{x.size(0) * x.size(1), x.size(2), x.size(3), 0, 0, kernel[0], kernel[1], stride[0], stride[1],
                      padding[0], padding[1], dilation[0], dilation[1]};
  check_window_ranges("_max_pool2d", p);
  VT_CHECK_VALUE(2 * p.ph <= p.kh && 2 * p.pw <= p.kw,
                 "_max_pool2d: padding must be between 0 and half the kernel size, got (", p.ph, ", ", p.pw,
                 ") for kernel_size (", p.kh, ", ", p.kw, ")");
  p.oh = window_out_size(p.h, p.kh, p.sh, p.ph, p.dh, ceil_mode);
  p.ow = window_out_size(p.w, p.kw, p.sw, p.pw, p.dw, ceil_mode);
  VT_CHECK_VALUE(p.oh > 0 && p.ow > 0, "_max_pool2d: the padded input (", p.h + 2 * p.ph, ", ", p.w + 2 * p.pw,
                 ") is smaller than the dilated kernel");
  VT_CHECK_VALUE(every_window_holds_input(p.h, p.oh, p.kh, p.sh, p.ph, p.dh) &&
                     every_window_holds_input(p.w, p.ow, p.kw, p.sw, p.pw, p.dw),
                 "_max_pool2d: a dilated window holds no element of the ", p.h, "x", p.w,
                 " input (only padding); expected a dilation that keeps every window on the input");
  return p;
}

// The backward's arguments: a 4-d floating gradient and int64 indices of one shape, a positive input plane,
// and the forward's window; returns the forward's geometry (the CUDA gather walks the windows).
inline MaxPool2dGeometry max_pool2d_backward_geometry(const Tensor& grad, const Tensor& indices, int64_t height,
                                                      int64_t width, const IntList& kernel, const IntList& stride,
                                                      const IntList& padding, const IntList& dilation) {
  VT_CHECK_VALUE(grad.dim() == 4 && indices.dim() == 4 && std::ranges::equal(grad.sizes(), indices.sizes()),
                 "_max_pool2d_backward: expected a 4-d gradient of the indices' shape, got ",
                 shape_str(grad.sizes()), " and ", shape_str(indices.sizes()));
  VT_CHECK(grad.device() == indices.device(), "_max_pool2d_backward: expected the gradient and the indices on one "
           "device, got ", grad.device(), " and ", indices.device());
  VT_CHECK_TYPE(indices.dtype() == DType::Int64 && is_floating(grad.dtype()),
                "_max_pool2d_backward: expected a floating point gradient and int64 indices, got ", grad.dtype(),
                " and ", indices.dtype());
  VT_CHECK_VALUE(height > 0 && width > 0, "_max_pool2d_backward: expected a positive input size");
  VT_CHECK_VALUE(kernel.size() == 2 && stride.size() == 2 && padding.size() == 2 && dilation.size() == 2,
                 "_max_pool2d_backward: expected kernel_size, stride, padding and dilation of two values each");
  MaxPool2dGeometry p{grad.size(0) * grad.size(1), height, width, grad.size(2), grad.size(3), kernel[0], kernel[1],
                      stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]};
  check_window_ranges("_max_pool2d_backward", p);
  // The gradient's plane must be the forward's output for this window (either ceil_mode): the CUDA gather
  // walks the windows, so a mismatched window would drop gradient instead of failing.
  auto fits = [](int64_t size, int64_t out, int64_t k, int64_t s, int64_t pad, int64_t d) {
    return out == window_out_size(size, k, s, pad, d, false) || out == window_out_size(size, k, s, pad, d, true);
  };
  VT_CHECK_VALUE(fits(p.h, p.oh, p.kh, p.sh, p.ph, p.dh) && fits(p.w, p.ow, p.kw, p.sw, p.pw, p.dw),
                 "_max_pool2d_backward: a ", p.oh, "x", p.ow, " gradient is not the output of this window over a ",
                 p.h, "x", p.w, " input");
  return p;
}

}  // namespace vt
