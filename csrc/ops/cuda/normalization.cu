// CUDA kernels of layer_norm and rms_norm: forward with the per-row statistics
// (vt::native_layer_norm / native_rms_norm, and the plain forwards) and the fused backward
// (vt::native_norm_backward). Same formulas as ops/cpu/normalization.cpp (Note
// [Normalization kernels]); the CUDA layout is in Note [CUDA normalization kernels].
#include <tuple>

#include "ops/cuda/device_types.cuh"
#include "ops/cuda/kernel_args.cuh"
#include "ops/cuda/math.cuh"
#include "ops/cuda/row_reduce.cuh"
#include "ops/normalization_args.h"
#include "ops/suite/families.h"

#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/stream.h"

namespace vt::cuda_kernels {
namespace {

// Note [CUDA normalization kernels]
// The input is made contiguous and viewed as [rows, M]. Row-wise kernels (forward, dx) give each
// row blockDim.x threads (one warp for short rows, up to 512 threads for long ones; blockDim.y
// rows per block) that read the row in 16-byte vectors when M and every pointer allow it, and
// sum with row_allreduce. layer_norm takes the mean, then the variance in a second pass over
// the row (as the CPU; the row is in L1/L2), all in the opmath type (float; double for float64);
// mean and rstd are saved in that type. dweight / dbias are column sums over the rows, done in
// two deterministic stages without atomics: blocks of 32 columns x 8 row-threads sum a fixed
// chunk of rows each into a [chunks, M] buffer, then one thread per column adds the chunks in
// order.

constexpr int kMaxRowThreads = 512;
constexpr int kColTile = 32, kRowLanes = 8;  // the column-sum block: 32 columns x 8 row-threads
constexpr int64_t kMaxChunks = 256, kMinChunkRows = 64;

struct RowLaunch {
  dim3 grid, block;
  size_t smem = 0;
};

// Threads per row grow with the row length (in vectors): a warp for up to 128 vectors, then
// doubling up to kMaxRowThreads; blocks hold at least 128 threads.
template <class A, int N> RowLaunch row_launch(int64_t rows, int64_t row_vectors) {
  int tx = 32;
  while (tx < kMaxRowThreads && int64_t(tx) * 4 < row_vectors) tx *= 2;
  int ty = tx >= 128 ? 1 : 128 / tx;
  RowLaunch l;
  l.block = dim3(unsigned(tx), unsigned(ty));
  l.grid = dim3(unsigned((rows + ty - 1) / ty));
  l.smem = size_t(ty) * 32 * N * sizeof(A);
  return l;
}

template <class D> __device__ __forceinline__ dev_opmath_t<D> opt_value(const D* p, int64_t i, float fill) {
  using A = dev_opmath_t<D>;
  return p ? to_opmath(p[i]) : A(fill);
}

template <class D, int V, bool Centered>
__global__ void norm_forward_kernel(const D* __restrict__ x, D* __restrict__ y, dev_opmath_t<D>* mean,
                                    dev_opmath_t<D>* rstd, const D* __restrict__ w, const D* __restrict__ b,
                                    int64_t rows, int64_t M, dev_opmath_t<D> eps) {
  using A = dev_opmath_t<D>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  A* smem = reinterpret_cast<A*>(smem_raw);
  int64_t r = int64_t(blockIdx.x) * blockDim.y + threadIdx.y;
  bool active = r < rows;  // inactive threads still join the block-wide reductions
  const D* xr = x + (active ? r : 0) * M;
  int64_t nv = M / V;
  A inv_m = A(1) / A(M);
  A acc[1] = {A(0)};
  if (active)
    for (int64_t i = threadIdx.x; i < nv; i += blockDim.x) {
      VecOf<D, V> xv = load_vec<V>(xr, i);
#pragma unroll
      for (int k = 0; k < V; ++k) {
        A v = to_opmath(xv.v[k]);
        acc[0] += Centered ? v : v * v;
      }
    }
  row_allreduce(acc, smem);
  A mu = A(0), rs;
  if constexpr (Centered) {
    mu = acc[0] * inv_m;
    A var[1] = {A(0)};
    if (active)
      for (int64_t i = threadIdx.x; i < nv; i += blockDim.x) {
        VecOf<D, V> xv = load_vec<V>(xr, i);
#pragma unroll
        for (int k = 0; k < V; ++k) {
          A d = to_opmath(xv.v[k]) - mu;
          var[0] += d * d;
        }
      }
    row_allreduce(var, smem);
    rs = A(1) / math::sqrt(var[0] * inv_m + eps);
  } else {
    rs = A(1) / math::sqrt(acc[0] * inv_m + eps);
  }
  if (!active) return;
  if (threadIdx.x == 0) {
    if constexpr (Centered) mean[r] = mu;
    rstd[r] = rs;
  }
  D* yr = y + r * M;
  for (int64_t i = threadIdx.x; i < nv; i += blockDim.x) {
    VecOf<D, V> xv = load_vec<V>(xr, i), out;
#pragma unroll
    for (int k = 0; k < V; ++k) {
      int64_t c = i * V + k;
      out.v[k] = from_opmath<D>((to_opmath(xv.v[k]) - mu) * rs * opt_value(w, c, 1.f) + opt_value(b, c, 0.f));
    }
    store_vec<V>(yr, i, out);
  }
}

// dx = rstd * (dy * w - mean(dy * w) - xhat * mean(dy * w * xhat)); rms_norm drops the middle term.
template <class D, int V, bool Centered>
__global__ void norm_backward_dx_kernel(const D* __restrict__ dy, const D* __restrict__ x,
                                        const dev_opmath_t<D>* mean, const dev_opmath_t<D>* rstd,
                                        const D* __restrict__ w, D* __restrict__ dx, int64_t rows, int64_t M) {
  using A = dev_opmath_t<D>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  A* smem = reinterpret_cast<A*>(smem_raw);
  int64_t r = int64_t(blockIdx.x) * blockDim.y + threadIdx.y;
  bool active = r < rows;
  int64_t row = active ? r : 0;
  const D* xr = x + row * M;
  const D* dyr = dy + row * M;
  int64_t nv = M / V;
  A inv_m = A(1) / A(M);
  A mu = Centered ? mean[row] : A(0), rs = rstd[row];
  A acc[2] = {A(0), A(0)};
  if (active)
    for (int64_t i = threadIdx.x; i < nv; i += blockDim.x) {
      VecOf<D, V> xv = load_vec<V>(xr, i), gv = load_vec<V>(dyr, i);
#pragma unroll
      for (int k = 0; k < V; ++k) {
        A g = to_opmath(gv.v[k]) * opt_value(w, i * V + k, 1.f);
        acc[0] += g;
        acc[1] += g * ((to_opmath(xv.v[k]) - mu) * rs);
      }
    }
  row_allreduce(acc, smem);
  if (!active) return;
  A c1 = Centered ? acc[0] * inv_m : A(0), c2 = acc[1] * inv_m;
  D* dxr = dx + r * M;
  for (int64_t i = threadIdx.x; i < nv; i += blockDim.x) {
    VecOf<D, V> xv = load_vec<V>(xr, i), gv = load_vec<V>(dyr, i), out;
#pragma unroll
    for (int k = 0; k < V; ++k) {
      A xhat = (to_opmath(xv.v[k]) - mu) * rs;
      A g = to_opmath(gv.v[k]) * opt_value(w, i * V + k, 1.f);
      out.v[k] = from_opmath<D>(rs * (g - c1 - xhat * c2));
    }
    store_vec<V>(dxr, i, out);
  }
}

// Stage 1 of dweight / dbias: block (x, y) sums rows [y * chunk_rows, (y + 1) * chunk_rows) of
// columns [x * 32, x * 32 + 32) into dw_part[y, :] (dy * xhat) and db_part[y, :] (dy); either
// may be nullptr. mean is nullptr for rms_norm.
template <class D>
__global__ void norm_column_partials_kernel(const D* __restrict__ dy, const D* __restrict__ x,
                                            const dev_opmath_t<D>* mean, const dev_opmath_t<D>* rstd,
                                            dev_opmath_t<D>* dw_part, dev_opmath_t<D>* db_part, int64_t rows,
                                            int64_t M, int64_t chunk_rows) {
  using A = dev_opmath_t<D>;
  __shared__ A sw[kRowLanes][kColTile + 1], sb[kRowLanes][kColTile + 1];
  int64_t c = int64_t(blockIdx.x) * kColTile + threadIdx.x;
  int64_t r0 = int64_t(blockIdx.y) * chunk_rows, r1 = r0 + chunk_rows < rows ? r0 + chunk_rows : rows;
  A aw = A(0), ab = A(0);
  if (c < M)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kRowLanes) {
      A g = to_opmath(dy[r * M + c]);
      A mu = mean ? mean[r] : A(0);
      aw += g * ((to_opmath(x[r * M + c]) - mu) * rstd[r]);
      ab += g;
    }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y != 0 || c >= M) return;
  A tw = A(0), tb = A(0);
#pragma unroll
  for (int j = 0; j < kRowLanes; ++j) {
    tw += sw[j][threadIdx.x];
    tb += sb[j][threadIdx.x];
  }
  if (dw_part) dw_part[int64_t(blockIdx.y) * M + c] = tw;
  if (db_part) db_part[int64_t(blockIdx.y) * M + c] = tb;
}

// Stage 2: out[c] = sum over chunks k (in order) of part[k, c].
template <class D>
__global__ void column_sum_kernel(const dev_opmath_t<D>* __restrict__ part, int64_t chunks, int64_t M, D* __restrict__ out) {
  using A = dev_opmath_t<D>;
  int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < M; c += step) {
    A t = A(0);
    for (int64_t k = 0; k < chunks; ++k) t += part[k * M + c];
    out[c] = from_opmath<D>(t);
  }
}

// ---- host side ------------------------------------------------------------------------------

template <class D> const D* ptr_or_null(const Tensor& t) { return t.defined() ? static_cast<const D*>(t.data_ptr()) : nullptr; }

// Runs launch.template operator()<V>() with V = 16 bytes of D when M and every tensor allow
// vector access, else V = 1.
template <class D, class F> void with_vector_width(int64_t M, std::initializer_list<const Tensor*> ts, F launch) {
  constexpr int kVec = 16 / int(sizeof(D));
  bool vec = M % kVec == 0;
  for (const Tensor* t : ts) vec = vec && aligned16(*t);
  if (vec) launch.template operator()<kVec>();
  else launch.template operator()<1>();
}

template <bool Centered>
std::tuple<Tensor, Tensor, Tensor> norm_forward(const char* op, const Tensor& input, const IntList& normalized_shape,
                                                const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                                                double eps) {
  check_cuda(op, input);
  NormShape s = check_norm_args(op, input, normalized_shape, weight, bias);
  DType dt = input.dtype();
  Tensor x = contiguous_as(input, dt);
  Tensor w = weight ? contiguous_as(*weight, dt) : Tensor(), b = bias ? contiguous_as(*bias, dt) : Tensor();
  Tensor out = empty_tensor(input.sizes(), dt, input.device());
  DType sd = norm_stats_dtype(dt);
  Tensor mean = Centered ? empty_tensor({s.rows}, sd, input.device()) : Tensor();
  Tensor rstd = empty_tensor({s.rows}, sd, input.device());
  if (s.rows == 0) return {out, mean, rstd};
  if (suite::norm_forward(Centered, x, w, b, out, mean, rstd, s.rows, s.M, eps)) return {out, mean, rstd};
  int dev = input.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  VT_DISPATCH_FLOATING(dt, op, [&]<class T>() {
    using D = dev_t<T>;
    using A = dev_opmath_t<D>;
    with_vector_width<D>(s.M, {&x, &out, &w, &b}, [&]<int V>() {
      RowLaunch l = row_launch<A, 1>(s.rows, s.M / V);
      norm_forward_kernel<D, V, Centered><<<l.grid, l.block, l.smem, stream>>>(
          static_cast<const D*>(x.data_ptr()), static_cast<D*>(out.data_ptr()),
          Centered ? static_cast<A*>(mean.data_ptr()) : nullptr, static_cast<A*>(rstd.data_ptr()), ptr_or_null<D>(w),
          ptr_or_null<D>(b), s.rows, s.M, A(eps));
      VT_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return {out, mean, rstd};
}

std::tuple<Tensor, Tensor, Tensor> native_layer_norm_cuda(const Tensor& input, const IntList& normalized_shape,
                                                          const std::optional<Tensor>& weight,
                                                          const std::optional<Tensor>& bias, double eps) {
  return norm_forward<true>("layer_norm", input, normalized_shape, weight, bias, eps);
}

std::tuple<Tensor, Tensor> native_rms_norm_cuda(const Tensor& input, const IntList& normalized_shape,
                                                const std::optional<Tensor>& weight, std::optional<double> eps) {
  auto [out, mean, rstd] = norm_forward<false>("rms_norm", input, normalized_shape, weight, std::nullopt,
                                               eps ? *eps : default_rms_norm_eps(input.dtype()));
  return {out, rstd};
}

Tensor layer_norm_cuda(const Tensor& input, const IntList& normalized_shape, const std::optional<Tensor>& weight,
                       const std::optional<Tensor>& bias, double eps) {
  return std::get<0>(native_layer_norm_cuda(input, normalized_shape, weight, bias, eps));
}

Tensor rms_norm_cuda(const Tensor& input, const IntList& normalized_shape, const std::optional<Tensor>& weight,
                     std::optional<double> eps) {
  return std::get<0>(native_rms_norm_cuda(input, normalized_shape, weight, eps));
}

std::tuple<Tensor, Tensor, Tensor> native_norm_backward_cuda(const Tensor& grad_out, const Tensor& input,
                                                             const std::optional<Tensor>& mean_opt, const Tensor& rstd_in,
                                                             const std::optional<Tensor>& weight,
                                                             const IntList& normalized_shape, bool input_grad,
                                                             bool weight_grad, bool bias_grad) {
  bool centered = mean_opt.has_value() && mean_opt->defined();
  const char* op = centered ? "layer_norm_backward" : "rms_norm_backward";
  check_cuda(op, input);
  NormShape s = check_norm_backward_args(op, grad_out, input, normalized_shape, weight, mean_opt, rstd_in);
  DType dt = input.dtype(), sd = norm_stats_dtype(dt);
  Tensor dy = contiguous_as(grad_out, dt), x = contiguous_as(input, dt);
  Tensor w = weight ? contiguous_as(*weight, dt) : Tensor();
  Tensor rstd = contiguous_as(rstd_in, sd), mean = centered ? contiguous_as(*mean_opt, sd) : Tensor();
  Tensor dx = input_grad ? empty_tensor(input.sizes(), dt, input.device()) : Tensor();
  Tensor dw = weight_grad ? empty_tensor(normalized_shape, dt, input.device()) : Tensor();
  Tensor db = bias_grad && centered ? empty_tensor(normalized_shape, dt, input.device()) : Tensor();
  int dev = input.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  if (s.rows == 0) {  // no rows: dweight and dbias are empty sums
    for (const Tensor* t : {&dw, &db})
      if (t->defined() && t->numel() > 0)
        VT_CUDA_CHECK(cudaMemsetAsync(t->data_ptr(), 0, size_t(t->numel() * itemsize(dt)), stream));
    return {dx, dw, db};
  }
  if (suite::norm_backward(centered, x, w, dy, mean, rstd, dx, dw, db, s.rows, s.M)) return {dx, dw, db};
  VT_DISPATCH_FLOATING(dt, op, [&]<class T>() {
    using D = dev_t<T>;
    using A = dev_opmath_t<D>;
    const A* mp = centered ? static_cast<const A*>(mean.data_ptr()) : nullptr;
    const A* rp = static_cast<const A*>(rstd.data_ptr());
    if (dx.defined()) {
      with_vector_width<D>(s.M, {&dy, &x, &w, &dx}, [&]<int V>() {
        RowLaunch l = row_launch<A, 2>(s.rows, s.M / V);
        auto args = std::make_tuple(static_cast<const D*>(dy.data_ptr()), static_cast<const D*>(x.data_ptr()), mp, rp,
                                    ptr_or_null<D>(w), static_cast<D*>(dx.data_ptr()), s.rows, s.M);
        if (centered)
          std::apply([&](auto... a) { norm_backward_dx_kernel<D, V, true><<<l.grid, l.block, l.smem, stream>>>(a...); }, args);
        else
          std::apply([&](auto... a) { norm_backward_dx_kernel<D, V, false><<<l.grid, l.block, l.smem, stream>>>(a...); }, args);
        VT_CUDA_KERNEL_LAUNCH_CHECK();
      });
    }
    if (!dw.defined() && !db.defined()) return;
    int64_t chunk_rows = (s.rows + kMaxChunks - 1) / kMaxChunks;
    if (chunk_rows < kMinChunkRows) chunk_rows = kMinChunkRows;
    int64_t chunks = (s.rows + chunk_rows - 1) / chunk_rows;
    Tensor dw_part = dw.defined() ? empty_tensor({chunks, s.M}, sd, input.device()) : Tensor();
    Tensor db_part = db.defined() ? empty_tensor({chunks, s.M}, sd, input.device()) : Tensor();
    A* dwp = dw_part.defined() ? static_cast<A*>(dw_part.data_ptr()) : nullptr;
    A* dbp = db_part.defined() ? static_cast<A*>(db_part.data_ptr()) : nullptr;
    dim3 grid(unsigned((s.M + kColTile - 1) / kColTile), unsigned(chunks)), block(kColTile, kRowLanes);
    norm_column_partials_kernel<D><<<grid, block, 0, stream>>>(static_cast<const D*>(dy.data_ptr()),
                                                               static_cast<const D*>(x.data_ptr()), mp, rp, dwp, dbp,
                                                               s.rows, s.M, chunk_rows);
    VT_CUDA_KERNEL_LAUNCH_CHECK();
    int64_t blocks = (s.M + 255) / 256;
    if (blocks > 4096) blocks = 4096;
    for (auto [out, part] : {std::pair{&dw, dwp}, std::pair{&db, dbp}}) {
      if (!part) continue;
      column_sum_kernel<D><<<unsigned(blocks), 256, 0, stream>>>(part, chunks, s.M, static_cast<D*>(out->data_ptr()));
      VT_CUDA_KERNEL_LAUNCH_CHECK();
    }
  });
  return {dx, dw, db};
}

}  // namespace

VT_REGISTER_KERNEL("vt::layer_norm", CUDA, layer_norm_cuda);
VT_REGISTER_KERNEL("vt::rms_norm", CUDA, rms_norm_cuda);
VT_REGISTER_KERNEL("vt::native_layer_norm", CUDA, native_layer_norm_cuda);
VT_REGISTER_KERNEL("vt::native_rms_norm", CUDA, native_rms_norm_cuda);
VT_REGISTER_KERNEL("vt::native_norm_backward", CUDA, native_norm_backward_cuda);

}  // namespace vt::cuda_kernels
