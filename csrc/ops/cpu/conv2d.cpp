// CPU kernels of vt::_conv2d_cpu and its backward. See Note [CPU convolution].
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "ops/ops.h"
#include "ops/window_size.h"

namespace vt::cpu {
namespace {

// Note [CPU convolution]
// conv2d on the CPU (float32 / float64, groups 1, symmetric padding; vibetensor/nn/_conv.py routes
// there and keeps its composed path for the rest, and for CUDA, where the composed path is one
// cuBLAS GEMM) as torch's slow path and Caffe compute it, one sample at a time so that samples run
// in parallel on the OpenMP team (OpenBLAS runs single-threaded: Note [One thread pool]):
//   forward   cols = im2col(x[n]) [C*KH*KW, OH*OW];  y[n] = W [OC, C*KH*KW] @ cols  (NCHW as it is)
//   input     gcols = W^T @ gy[n];  gx[n] = col2im(gcols)  (overlapping windows add)
//   weight    gW += gy[n] @ cols^T, summed per thread, then over threads
// Small images (a few hundred output positions) put several samples side by side in one GEMM
// (block_of), whose columns are then copied to and from NCHW: a 4x4 image alone is a 16-column product.
// The composed path (NHWC windows, one GEMM for the batch, Note [Convolution by windows]) copies the
// input to NHWC and the output back to NCHW and differentiates a strided convolution through a
// convolution of the zero-stuffed gradient; here no layout changes and col2im replaces the stuffing.

void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float beta, const float* A, int lda,
          const float* B, int ldb, float* C, int ldc) {
  scipy_cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, A, lda, B, ldb, beta, C, ldc);
}
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double beta, const double* A, int lda,
          const double* B, int ldb, double* C, int ldc) {
  scipy_cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, A, lda, B, ldb, beta, C, ldc);
}

struct Geometry {
  int64_t n, c, h, w, oc, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw;
  int64_t k() const { return c * kh * kw; }   // rows of cols
  int64_t p() const { return oh * ow; }       // columns of cols
};

Geometry geometry(const Tensor& x, const Tensor& weight, const IntList& stride, const IntList& padding,
                  const IntList& dilation) {
  VT_CHECK_VALUE(x.dim() == 4 && weight.dim() == 4, "_conv2d_cpu: expected a 4-d input and weight, got ", x.dim(),
                 "-d and ", weight.dim(), "-d");
  VT_CHECK_VALUE(stride.size() == 2 && padding.size() == 2 && dilation.size() == 2,
                 "_conv2d_cpu: expected stride, padding and dilation of two values each");
  VT_CHECK_VALUE(weight.size(1) == x.size(1), "_conv2d_cpu: input of ", x.size(1), " channels, weight of ",
                 weight.size(1), " (groups are the composed path's)");
  VT_CHECK_TYPE(x.dtype() == weight.dtype() && (x.dtype() == DType::Float32 || x.dtype() == DType::Float64),
                "_conv2d_cpu: expected float32 or float64 input and weight of one dtype, got ", x.dtype(), " and ",
                weight.dtype());
  Geometry g{x.size(0), x.size(1), x.size(2), x.size(3), weight.size(0), weight.size(2), weight.size(3), 0, 0,
             stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]};
  VT_CHECK_VALUE(g.sh > 0 && g.sw > 0 && g.dh > 0 && g.dw > 0 && g.ph >= 0 && g.pw >= 0,
                 "_conv2d_cpu: expected positive stride and dilation and non-negative padding");
  g.oh = window_out_size(g.h, g.kh, g.sh, g.ph, g.dh);
  g.ow = window_out_size(g.w, g.kw, g.sw, g.pw, g.dw);
  VT_CHECK_VALUE(g.oh > 0 && g.ow > 0, "_conv2d_cpu: the padded input (", g.h + 2 * g.ph, ", ", g.w + 2 * g.pw,
                 ") is smaller than the dilated kernel");
  return g;
}

// cols[(c*KH + i)*KW + j][oh*OW + ow] = x[c][oh*sh - ph + i*dh][ow*sw - pw + j*dw] (0 outside); a row of
// cols is `ld` elements apart (one sample's columns inside a block of several).
template <class T>
void im2col(const T* x, const Geometry& g, T* cols, int64_t ld) {
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        T* row = cols + ((c * g.kh + i) * g.kw + j) * ld;
        for (int64_t oh = 0; oh < g.oh; ++oh) {
          const int64_t ih = oh * g.sh - g.ph + i * g.dh;
          T* out = row + oh * g.ow;
          if (ih < 0 || ih >= g.h) {
            std::fill(out, out + g.ow, T(0));
            continue;
          }
          const T* in = x + (c * g.h + ih) * g.w;
          for (int64_t ow = 0; ow < g.ow; ++ow) {
            const int64_t iw = ow * g.sw - g.pw + j * g.dw;
            out[ow] = iw >= 0 && iw < g.w ? in[iw] : T(0);
          }
        }
      }
}

// The adjoint of im2col: gx (zeroed by the caller) += each column entry at the input position it came from.
template <class T>
void col2im(const T* cols, const Geometry& g, T* gx, int64_t ld) {
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const T* row = cols + ((c * g.kh + i) * g.kw + j) * ld;
        for (int64_t oh = 0; oh < g.oh; ++oh) {
          const int64_t ih = oh * g.sh - g.ph + i * g.dh;
          if (ih < 0 || ih >= g.h) continue;
          T* out = gx + (c * g.h + ih) * g.w;
          const T* in = row + oh * g.ow;
          for (int64_t ow = 0; ow < g.ow; ++ow) {
            const int64_t iw = ow * g.sw - g.pw + j * g.dw;
            if (iw >= 0 && iw < g.w) out[iw] += in[ow];
          }
        }
      }
}

// Samples per GEMM: enough that a small image still gives a GEMM of ~kBlockColumns columns (at 4x4 one
// sample's product is 16 columns wide), one where an image alone is that wide.
constexpr int64_t kBlockColumns = 4096;
// Never fewer blocks than threads: the blocks are what runs in parallel.
int64_t block_of(const Geometry& g) {
  const int64_t per_thread = (g.n + omp_get_max_threads() - 1) / omp_get_max_threads();
  return std::max<int64_t>(1, std::min(per_thread, kBlockColumns / g.p()));
}

// y[n] (NCHW) <-> the block's [OC, B*P] columns.
template <class T>
void scatter_block(const T* block, const Geometry& g, int64_t n0, int64_t b, T* y) {
  for (int64_t s = 0; s < b; ++s)
    for (int64_t o = 0; o < g.oc; ++o)
      std::copy_n(block + o * b * g.p() + s * g.p(), g.p(), y + ((n0 + s) * g.oc + o) * g.p());
}
template <class T>
void gather_block(const T* y, const Geometry& g, int64_t n0, int64_t b, T* block) {
  for (int64_t s = 0; s < b; ++s)
    for (int64_t o = 0; o < g.oc; ++o)
      std::copy_n(y + ((n0 + s) * g.oc + o) * g.p(), g.p(), block + o * b * g.p() + s * g.p());
}

template <class T>
void forward(const T* x, const T* w, T* y, const Geometry& g) {
  const int64_t xs = g.c * g.h * g.w, bs = block_of(g), blocks = (g.n + bs - 1) / bs;
#pragma omp parallel
  {
    std::vector<T> cols, out;  // allocated by the threads that get a block
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const int64_t n0 = blk * bs, b = std::min(bs, g.n - n0), ld = b * g.p();
      cols.resize(size_t(g.k() * bs * g.p()));
      if (bs > 1) out.resize(size_t(g.oc * bs * g.p()));
      for (int64_t s = 0; s < b; ++s) im2col(x + (n0 + s) * xs, g, cols.data() + s * g.p(), ld);
      T* dst = b == 1 ? y + n0 * g.oc * g.p() : out.data();  // one sample: straight into NCHW
      gemm(CblasNoTrans, CblasNoTrans, int(g.oc), int(ld), int(g.k()), T(0), w, int(g.k()), cols.data(), int(ld), dst,
           int(ld));
      if (b > 1) scatter_block(out.data(), g, n0, b, y);
    }
  }
}

template <class T>
void backward(const T* gy, const T* x, const T* w, T* gx, T* gw, const Geometry& g) {
  const int64_t xs = g.c * g.h * g.w, ws = g.oc * g.k(), bs = block_of(g), blocks = (g.n + bs - 1) / bs;
  const int threads = omp_get_max_threads();
  std::vector<T> partial(gw ? size_t(threads) * size_t(ws) : 0, T(0));  // each thread's sum of gW
#pragma omp parallel
  {
    std::vector<T> cols, grads;  // allocated by the threads that get a block
    T* mine = gw ? partial.data() + size_t(omp_get_thread_num()) * size_t(ws) : nullptr;
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const int64_t n0 = blk * bs, b = std::min(bs, g.n - n0), ld = b * g.p();
      cols.resize(size_t(g.k() * bs * g.p()));
      if (bs > 1) grads.resize(size_t(g.oc * bs * g.p()));
      const T* gyb = gy + n0 * g.oc * g.p();
      if (b > 1) {
        gather_block(gy, g, n0, b, grads.data());
        gyb = grads.data();
      }
      if (gw) {
        for (int64_t s = 0; s < b; ++s) im2col(x + (n0 + s) * xs, g, cols.data() + s * g.p(), ld);
        gemm(CblasNoTrans, CblasTrans, int(g.oc), int(g.k()), int(ld), T(1), gyb, int(ld), cols.data(), int(ld), mine,
             int(g.k()));
      }
      if (gx) {
        gemm(CblasTrans, CblasNoTrans, int(g.k()), int(ld), int(g.oc), T(0), w, int(g.k()), gyb, int(ld), cols.data(),
             int(ld));
        std::fill(gx + n0 * xs, gx + (n0 + b) * xs, T(0));
        for (int64_t s = 0; s < b; ++s) col2im(cols.data() + s * g.p(), g, gx + (n0 + s) * xs, ld);
      }
    }
  }
  if (gw) {
    std::fill(gw, gw + ws, T(0));
    for (int t = 0; t < threads; ++t)
      for (int64_t i = 0; i < ws; ++i) gw[i] += partial[size_t(t) * size_t(ws) + size_t(i)];
  }
}

Tensor conv2d_cpu(const Tensor& input, const Tensor& weight, const IntList& stride, const IntList& padding,
                  const IntList& dilation) {
  const Geometry g = geometry(input, weight, stride, padding, dilation);
  Tensor x = ops::contiguous(input), w = ops::contiguous(weight);
  Tensor y = empty_tensor(DimVector{g.n, g.oc, g.oh, g.ow}, x.dtype(), x.device());
  if (x.dtype() == DType::Float32) forward(x.data<float>(), w.data<float>(), y.data<float>(), g);
  else forward(x.data<double>(), w.data<double>(), y.data<double>(), g);
  return y;
}

std::tuple<Tensor, Tensor> conv2d_cpu_backward(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                               const IntList& stride, const IntList& padding, const IntList& dilation,
                                               bool input_grad, bool weight_grad) {
  const Geometry g = geometry(input, weight, stride, padding, dilation);
  VT_CHECK_VALUE(grad.dim() == 4 && grad.size(0) == g.n && grad.size(1) == g.oc && grad.size(2) == g.oh &&
                     grad.size(3) == g.ow && grad.dtype() == input.dtype(),
                 "_conv2d_cpu_backward: the gradient does not match the convolution's output");
  Tensor gy = ops::contiguous(grad), x = ops::contiguous(input), w = ops::contiguous(weight);
  Tensor gx = input_grad ? empty_tensor(DimVector(input.sizes()), x.dtype(), x.device()) : Tensor();
  Tensor gw = weight_grad ? empty_tensor(DimVector(weight.sizes()), x.dtype(), x.device()) : Tensor();
  if (x.dtype() == DType::Float32)
    backward(gy.data<float>(), x.data<float>(), w.data<float>(), input_grad ? gx.data<float>() : nullptr,
             weight_grad ? gw.data<float>() : nullptr, g);
  else
    backward(gy.data<double>(), x.data<double>(), w.data<double>(), input_grad ? gx.data<double>() : nullptr,
             weight_grad ? gw.data<double>() : nullptr, g);
  return {gx, gw};
}

}  // namespace

VT_REGISTER_KERNEL("vt::_conv2d_cpu", CPU, conv2d_cpu);
VT_REGISTER_KERNEL("vt::_conv2d_cpu_backward", CPU, conv2d_cpu_backward);

}  // namespace vt::cpu
