// CUDA kernels of softmax, log_softmax and their backward helpers (mirrors ops/cpu/softmax.cpp).
// See Note [CUDA softmax].
#include "ops/cuda/math.cuh"
#include "ops/cuda/reduce.cuh"
#include "ops/elementwise_util.h"
#include "ops/softmax_args.h"
#include "ops/suite/families.h"

namespace vt::cuda_kernels {
namespace {

// Note [CUDA softmax]
// The input is made contiguous and viewed as [O, N, I] with N the softmax dim; everything is
// computed in the opmath type (float for the 16-bit floats).
// - Last dim (I == 1): a group per row (Note [CUDA group reductions]): a warp for N <= 1024 (4
//   rows per block), a block of 512 threads otherwise. When the row fits, each thread keeps its
//   ELEMS elements (thread t holds t, t + G, ...: coalesced) in registers, so x is read once:
//   max, then exp and sum, then the scaled write. Rows longer than 512 * 32 are streamed:
//   three reads of x.
// - Another dim (I > 1): a thread per (o, i) column walks n with stride I; adjacent threads
//   read adjacent i, so every pass is coalesced.
// The max propagates NaN as the CPU kernel does; a row of -inf gives NaN as in torch.
// Backward: softmax gi = y * (g - sum(g * y)), log_softmax gi = g - exp(y) * sum(g), with the
// same layouts (two passes: the sum, then the write).

constexpr int kRowsPerWarpBlock = 4;
constexpr int kRowBlock = 512;
constexpr int kMaxElems = 32;
constexpr int kColThreads = 256;

struct MaxNaN {
  template <class M> __device__ M operator()(M a, M b) const { return (b != b || b > a) ? b : a; }
};
struct Add {
  template <class M> __device__ M operator()(M a, M b) const { return a + b; }
};

template <int ELEMS, class D, bool Log>
__global__ void __launch_bounds__(kRowBlock)
    softmax_rows_kernel(const D* __restrict__ x, D* __restrict__ y, int64_t O, int64_t N) {
  using M = dev_opmath_t<D>;
  int64_t o = int64_t(blockIdx.x) * blockDim.y + threadIdx.y;
  if (o >= O) return;  // uniform per group
  const D* xr = x + o * N;
  D* yr = y + o * N;
  int64_t t = threadIdx.x, G = blockDim.x;
  M m = lowest_value<M>();
  if constexpr (ELEMS > 0) {
    M v[ELEMS];
#pragma unroll
    for (int k = 0; k < ELEMS; ++k) {
      int64_t i = t + k * G;
      v[k] = i < N ? to_opmath(xr[i]) : lowest_value<M>();
      m = MaxNaN{}(m, v[k]);
    }
    m = group_allreduce(m, MaxNaN{});
    M s = M(0);
#pragma unroll
    for (int k = 0; k < ELEMS; ++k) {
      if (t + k * G < N) {
        M e = math::exp(v[k] - m);
        if constexpr (!Log) v[k] = e;
        s += e;
      }
    }
    s = group_allreduce(s, Add{});
    // (x - m) - log(s), not x - (m + log(s)): the latter loses the digits of x - m when |m| is large.
    M f = Log ? math::log(s) : M(1) / s;
#pragma unroll
    for (int k = 0; k < ELEMS; ++k) {
      int64_t i = t + k * G;
      if (i < N) yr[i] = from_opmath<D>(Log ? (v[k] - m) - f : v[k] * f);
    }
  } else {
    for (int64_t i = t; i < N; i += G) m = MaxNaN{}(m, M(to_opmath(xr[i])));
    m = group_allreduce(m, MaxNaN{});
    M s = M(0);
    for (int64_t i = t; i < N; i += G) s += math::exp(M(to_opmath(xr[i])) - m);
    s = group_allreduce(s, Add{});
    M f = Log ? math::log(s) : M(1) / s;
    for (int64_t i = t; i < N; i += G) {
      M d = M(to_opmath(xr[i])) - m;
      yr[i] = from_opmath<D>(Log ? d - f : math::exp(d) * f);
    }
  }
}

template <class D, bool Log>
__global__ void __launch_bounds__(kColThreads)
    softmax_cols_kernel(const D* __restrict__ x, D* __restrict__ y, int64_t O, int64_t N, int64_t I) {
  using M = dev_opmath_t<D>;
  int64_t c = int64_t(blockIdx.x) * kColThreads + threadIdx.x;
  if (c >= O * I) return;
  int64_t base = (c / I) * N * I + c % I;
  const D* xc = x + base;
  D* yc = y + base;
  M m = lowest_value<M>();
  for (int64_t n = 0; n < N; ++n) m = MaxNaN{}(m, M(to_opmath(xc[n * I])));
  M s = M(0);
  for (int64_t n = 0; n < N; ++n) s += math::exp(M(to_opmath(xc[n * I])) - m);
  M f = Log ? math::log(s) : M(1) / s;
  for (int64_t n = 0; n < N; ++n) {
    M d = M(to_opmath(xc[n * I])) - m;
    yc[n * I] = from_opmath<D>(Log ? d - f : math::exp(d) * f);
  }
}

template <class D, bool Log>
__global__ void __launch_bounds__(kRowBlock)
    softmax_backward_rows_kernel(const D* __restrict__ g, const D* __restrict__ y, D* __restrict__ gi, int64_t O,
                                 int64_t N) {
  using M = dev_opmath_t<D>;
  int64_t o = int64_t(blockIdx.x) * blockDim.y + threadIdx.y;
  if (o >= O) return;  // uniform per group
  const D* gr = g + o * N;
  const D* yr = y + o * N;
  D* out = gi + o * N;
  int64_t t = threadIdx.x, G = blockDim.x;
  M s = M(0);
  for (int64_t i = t; i < N; i += G) s += Log ? M(to_opmath(gr[i])) : M(to_opmath(gr[i])) * M(to_opmath(yr[i]));
  s = group_allreduce(s, Add{});
  for (int64_t i = t; i < N; i += G) {
    M gv = to_opmath(gr[i]), yv = to_opmath(yr[i]);
    out[i] = from_opmath<D>(Log ? gv - math::exp(yv) * s : yv * (gv - s));
  }
}

template <class D, bool Log>
__global__ void __launch_bounds__(kColThreads)
    softmax_backward_cols_kernel(const D* __restrict__ g, const D* __restrict__ y, D* __restrict__ gi, int64_t O,
                                 int64_t N, int64_t I) {
  using M = dev_opmath_t<D>;
  int64_t c = int64_t(blockIdx.x) * kColThreads + threadIdx.x;
  if (c >= O * I) return;
  int64_t base = (c / I) * N * I + c % I;
  M s = M(0);
  for (int64_t n = 0; n < N; ++n) {
    int64_t k = base + n * I;
    s += Log ? M(to_opmath(g[k])) : M(to_opmath(g[k])) * M(to_opmath(y[k]));
  }
  for (int64_t n = 0; n < N; ++n) {
    int64_t k = base + n * I;
    M gv = to_opmath(g[k]), yv = to_opmath(y[k]);
    gi[k] = from_opmath<D>(Log ? gv - math::exp(yv) * s : yv * (gv - s));
  }
}


// Grid and block of a group-per-row kernel: a warp per row for short rows, else a block.
struct RowLaunch {
  dim3 grid, block;
  RowLaunch(int64_t O, int64_t N) {
    VT_CHECK(O < (int64_t(1) << 31), "CUDA softmax: ", O, " rows are too many for one launch");
    if (N <= 32 * kMaxElems) {
      block = dim3(32, kRowsPerWarpBlock);
      grid = dim3(unsigned(ceil_div(O, kRowsPerWarpBlock)));
    } else {
      block = dim3(kRowBlock, 1);
      grid = dim3(unsigned(O));
    }
  }
};

dim3 col_grid(int64_t columns) {
  int64_t blocks = ceil_div(columns, kColThreads);
  VT_CHECK(blocks < (int64_t(1) << 31), "CUDA softmax: ", columns, " columns are too many for one launch");
  return dim3(unsigned(blocks));
}

// Calls f(std::integral_constant<int, ELEMS>) with the smallest power of two ELEMS such that a
// group of G threads holds N elements in registers, or 0 (streamed) when N > G * kMaxElems.
template <class F> void with_elems(int64_t N, int64_t G, F f) {
  int64_t per_thread = ceil_div(N, G);
  if (per_thread <= 1) f(std::integral_constant<int, 1>{});
  else if (per_thread <= 2) f(std::integral_constant<int, 2>{});
  else if (per_thread <= 4) f(std::integral_constant<int, 4>{});
  else if (per_thread <= 8) f(std::integral_constant<int, 8>{});
  else if (per_thread <= 16) f(std::integral_constant<int, 16>{});
  else if (per_thread <= kMaxElems) f(std::integral_constant<int, kMaxElems>{});
  else f(std::integral_constant<int, 0>{});
}

template <class T, bool Log> void softmax_forward(const Tensor& x, const Tensor& out, DimLayout L) {
  using D = dev_t<T>;
  int dev = out.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t s = cuda::current_stream(dev).handle();
  const D* xp = static_cast<const D*>(x.data_ptr());
  D* yp = static_cast<D*>(out.data_ptr());
  if (L.I == 1) {
    RowLaunch rl(L.O, L.N);
    with_elems(L.N, rl.block.x, [&](auto elems) {
      softmax_rows_kernel<decltype(elems)::value, D, Log><<<rl.grid, rl.block, 0, s>>>(xp, yp, L.O, L.N);
    });
  } else {
    softmax_cols_kernel<D, Log><<<col_grid(L.O * L.I), kColThreads, 0, s>>>(xp, yp, L.O, L.N, L.I);
  }
  VT_CUDA_KERNEL_LAUNCH_CHECK();
}

template <class T, bool Log>
void softmax_backward(const Tensor& g, const Tensor& y, const Tensor& gi, DimLayout L) {
  using D = dev_t<T>;
  int dev = gi.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t s = cuda::current_stream(dev).handle();
  const D* gp = static_cast<const D*>(g.data_ptr());
  const D* yp = static_cast<const D*>(y.data_ptr());
  D* op = static_cast<D*>(gi.data_ptr());
  if (L.I == 1) {
    RowLaunch rl(L.O, L.N);
    softmax_backward_rows_kernel<D, Log><<<rl.grid, rl.block, 0, s>>>(gp, yp, op, L.O, L.N);
  } else {
    softmax_backward_cols_kernel<D, Log><<<col_grid(L.O * L.I), kColThreads, 0, s>>>(gp, yp, op, L.O, L.N, L.I);
  }
  VT_CUDA_KERNEL_LAUNCH_CHECK();
}

template <bool Log>
Tensor softmax_cuda(const Tensor& self, int64_t dim) {
  const char* op = Log ? "log_softmax" : "softmax";
  int64_t d = check_softmax_args(op, self, dim);
  VT_CHECK(self.device().is_cuda(), op, ": the CUDA kernel got a tensor on ", self.device());
  Tensor x;
  {
    NoGradGuard no_grad;
    x = ops::contiguous(self);
  }
  Tensor out = empty_tensor(self.sizes(), self.dtype(), self.device());
  if (self.numel() == 0) return out;
  DimLayout L = layout_around_dim(self.sizes(), self.dim() == 0 ? 0 : d);
  if (suite::softmax_forward(x, out, L.O, L.N, L.I, Log)) return out;
  VT_DISPATCH_FLOATING(self.dtype(), op, [&]<class T>() { softmax_forward<T, Log>(x, out, L); });
  return out;
}

template <bool Log>
Tensor softmax_backward_cuda(const Tensor& grad, const Tensor& output, int64_t dim) {
  const char* op = Log ? "log_softmax_backward" : "softmax_backward";
  SoftmaxBackwardArgs a = prepare_softmax_backward(op, grad, output, dim);
  if (a.grad_input.numel() == 0) return a.grad_input;
  if (suite::softmax_backward(a.grad, a.output, a.grad_input, a.layout.O, a.layout.N, a.layout.I, Log))
    return a.grad_input;
  VT_DISPATCH_FLOATING(a.output.dtype(), op, [&]<class T>() { softmax_backward<T, Log>(a.grad, a.output, a.grad_input, a.layout); });
  return a.grad_input;
}

}  // namespace

VT_REGISTER_KERNEL("vt::softmax", CUDA, softmax_cuda<false>);
VT_REGISTER_KERNEL("vt::log_softmax", CUDA, softmax_cuda<true>);
VT_REGISTER_KERNEL("vt::softmax_backward", CUDA, softmax_backward_cuda<false>);
VT_REGISTER_KERNEL("vt::log_softmax_backward", CUDA, softmax_backward_cuda<true>);

}  // namespace vt::cuda_kernels
