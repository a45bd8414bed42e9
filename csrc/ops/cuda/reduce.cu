// CUDA reduction kernels: sum, mean, amax, amin, max_dim, min_dim, argmax, argmin (mirrors
// ops/cpu/reduce.cpp: same dtype rules, checks and NaN / tie semantics). See Note [CUDA reductions].
#include "ops/cuda/reduce.cuh"
#include "ops/elementwise_util.h"
#include "ops/reduction_args.h"
#include "ops/reduction_util.h"

namespace vt::cuda_kernels {
namespace {

// Note [CUDA reductions]
// The input is planned as a contiguous [O, R, I] buffer (Note [Reduction layouts]); the result
// is a contiguous [O, I].
// - inner (I == 1): a row per group (Note [CUDA group reductions]): a warp per row for rows up
//   to 512 elements, a block per row otherwise (rows of at most 8 elements take a thread each).
//   Each thread reads 16-byte vectors (four in flight) when the rows are aligned, keeping one
//   accumulator per vector lane. When there are too few rows to fill the device (a full
//   reduction is one row), each row is also cut into `splits` chunks, one block each.
// - outer (I > 1): a block owns 32 adjacent kept columns of one o; its 8 thread rows walk the
//   reduced dim (coalesced 32-wide reads) and are merged through shared memory. When there are
//   too few column tiles, the reduced dim is cut into chunks as well.
// Chunks write their partial accumulators to a workspace, and a second kernel (a warp per
// output) merges them in a fixed order: no atomics, so results are deterministic for a given
// device. Ops carry their accumulator type A: float for the 16-bit floats and float, double
// for double, int64 for integer sums; the arg-reductions accumulate (value, index) pairs whose
// merge takes NaN as the extreme and the smallest index among equals (torch's first occurrence).

constexpr int kInnerBlock = 512;  // threads of a block per row
constexpr int kWarpRows = 8;      // rows per block in warp-per-row mode
constexpr int64_t kWarpRowMax = 512;
constexpr int kOuterCols = 32, kOuterRows = 8;
constexpr int kMaxSplits = 1024;
constexpr int64_t kShortRow = 8;
constexpr int kShortRowThreads = 256;

template <class D> struct SumAcc { using type = dev_opmath_t<D>; };
template <> struct SumAcc<int32_t> { using type = int64_t; };

template <class D> struct SumOp {
  using A = typename SumAcc<D>::type;
  D* out;
  A divisor;  // 1 for sum; the element count for mean
  bool divide;
  __device__ A identity() const { return A(0); }
  __device__ A step(A a, D x, int64_t) const { return a + A(to_opmath(x)); }
  __device__ A merge(A a, A b) const { return a + b; }
  __device__ void store(int64_t o, A a) const { out[o] = from_opmath<D>(divide ? a / divisor : a); }
};

// max / min propagating NaN (torch.amax).
template <class D, bool IsMax> struct MaxMinOp {
  using A = dev_opmath_t<D>;
  D* out;
  __device__ A identity() const { return IsMax ? lowest_value<A>() : highest_value<A>(); }
  __device__ A merge(A a, A b) const {
    bool take = IsMax ? (b > a) : (b < a);
    return (b != b || take) ? b : a;
  }
  __device__ A step(A a, D x, int64_t) const { return merge(a, A(to_opmath(x))); }
  __device__ void store(int64_t o, A a) const { out[o] = from_opmath<D>(a); }
};

template <class M> struct ValueIndex {
  M value;
  int64_t index;
};

// The extreme value and its first position; values may be null (argmax).
template <class D, bool IsMax> struct ArgOp {
  using M = dev_opmath_t<D>;
  using A = ValueIndex<M>;
  D* values;
  int64_t* indices;
  __device__ A identity() const { return {IsMax ? lowest_value<M>() : highest_value<M>(), INT64_MAX}; }
  __device__ A merge(A a, A b) const {
    bool a_nan = a.value != a.value, b_nan = b.value != b.value;
    if (a_nan || b_nan) return (a_nan && b_nan) ? (b.index < a.index ? b : a) : (a_nan ? a : b);
    if (IsMax ? (b.value > a.value) : (b.value < a.value)) return b;
    return (b.value == a.value && b.index < a.index) ? b : a;
  }
  __device__ A step(A a, D x, int64_t r) const { return merge(a, A{M(to_opmath(x)), r}); }
  __device__ void store(int64_t o, A a) const {
    // Elements equal to the identity value still win over it (smaller index): R >= 1 is checked,
    // so the index is always a real position.
    indices[o] = a.index;
    if (values) values[o] = from_opmath<D>(a.value);
  }
};

template <class Op> struct MergeOf {
  const Op& op;
  __device__ typename Op::A operator()(typename Op::A a, typename Op::A b) const { return op.merge(a, b); }
};

// Rows [O, R]: group g of block b reduces row o = b * blockDim.y + threadIdx.y over the chunk
// blockIdx.y of `chunk` elements. vec: rows (and chunks) start 16-byte aligned.
template <int VEC, class D, class Op>
__global__ void __launch_bounds__(kInnerBlock)
    reduce_inner_kernel(const D* __restrict__ x, int64_t O, int64_t R, int64_t chunk, int splits, bool vec, Op op,
                        typename Op::A* __restrict__ partial) {
  using A = typename Op::A;
  int64_t o = int64_t(blockIdx.x) * blockDim.y + threadIdx.y;
  if (o >= O) return;  // uniform per group: a whole warp (warp mode) or the whole block
  int split = int(blockIdx.y);
  int64_t begin = int64_t(split) * chunk, end = begin + chunk < R ? begin + chunk : R;
  const D* row = x + o * R;
  A acc[VEC];
#pragma unroll
  for (int j = 0; j < VEC; ++j) acc[j] = op.identity();
  int64_t t = threadIdx.x, stride = blockDim.x;
  if (vec && begin < end) {
    using V = VecOf<VEC, D>;
    const V* p = reinterpret_cast<const V*>(row + begin);
    int64_t nv = (end - begin) / VEC, k = t;
    for (; k + 3 * stride < nv; k += 4 * stride) {
      V v[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) v[u] = p[k + u * stride];
#pragma unroll
      for (int u = 0; u < 4; ++u)
#pragma unroll
        for (int j = 0; j < VEC; ++j) acc[j] = op.step(acc[j], v[u].v[j], begin + (k + u * stride) * VEC + j);
    }
    for (; k < nv; k += stride) {
      V v = p[k];
#pragma unroll
      for (int j = 0; j < VEC; ++j) acc[j] = op.step(acc[j], v.v[j], begin + k * VEC + j);
    }
    for (int64_t e = begin + nv * VEC + t; e < end; e += stride) acc[0] = op.step(acc[0], row[e], e);
  } else {
    int64_t e = begin + t;
    for (; e + (VEC - 1) * stride < end; e += VEC * stride) {
      D v[VEC];
#pragma unroll
      for (int j = 0; j < VEC; ++j) v[j] = row[e + j * stride];
#pragma unroll
      for (int j = 0; j < VEC; ++j) acc[j] = op.step(acc[j], v[j], e + j * stride);
    }
    for (; e < end; e += stride) acc[0] = op.step(acc[0], row[e], e);
  }
  A a = acc[0];
#pragma unroll
  for (int j = 1; j < VEC; ++j) a = op.merge(a, acc[j]);
  a = group_allreduce(a, MergeOf<Op>{op});
  if (threadIdx.x == 0) {
    if (splits == 1) op.store(o, a);
    else partial[o * splits + split] = a;
  }
}

// Rows [O, R] of at most kShortRow elements: a thread per row (a warp would idle most lanes).
template <class D, class Op>
__global__ void __launch_bounds__(kShortRowThreads)
    reduce_short_rows_kernel(const D* __restrict__ x, int64_t O, int64_t R, Op op) {
  int64_t o = int64_t(blockIdx.x) * kShortRowThreads + threadIdx.x;
  if (o >= O) return;
  typename Op::A a = op.identity();
  for (int64_t r = 0; r < R; ++r) a = op.step(a, x[o * R + r], r);
  op.store(o, a);
}

// [O, R, I]: block (b, split) owns kept columns i0 .. i0+31 of o = b / tiles; thread row ty
// reads reduced rows ty, ty + 8, ... of its chunk.
template <class D, class Op>
__global__ void __launch_bounds__(kOuterCols * kOuterRows)
    reduce_outer_kernel(const D* __restrict__ x, int64_t R, int64_t I, int64_t tiles, int64_t chunk, int splits, Op op,
                        typename Op::A* __restrict__ partial) {
  using A = typename Op::A;
  int64_t o = int64_t(blockIdx.x) / tiles, i = (int64_t(blockIdx.x) % tiles) * kOuterCols + threadIdx.x;
  int split = int(blockIdx.y);
  int64_t begin = int64_t(split) * chunk, end = begin + chunk < R ? begin + chunk : R;
  A acc[4];
#pragma unroll
  for (int u = 0; u < 4; ++u) acc[u] = op.identity();
  if (i < I) {
    const D* col = x + o * R * I + i;
    int64_t r = begin + threadIdx.y;
    for (; r + 3 * kOuterRows < end; r += 4 * kOuterRows) {
      D v[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) v[u] = col[(r + u * kOuterRows) * I];
#pragma unroll
      for (int u = 0; u < 4; ++u) acc[u] = op.step(acc[u], v[u], r + u * kOuterRows);
    }
    for (; r < end; r += kOuterRows) acc[0] = op.step(acc[0], col[r * I], r);
  }
  A a = op.merge(op.merge(acc[0], acc[1]), op.merge(acc[2], acc[3]));
  __shared__ __align__(16) unsigned char raw[kOuterRows * kOuterCols * sizeof(A)];
  A* tile = reinterpret_cast<A*>(raw);
  tile[threadIdx.y * kOuterCols + threadIdx.x] = a;
  __syncthreads();
  if (threadIdx.y != 0 || i >= I) return;
  for (int y = 1; y < kOuterRows; ++y) a = op.merge(a, tile[y * kOuterCols + threadIdx.x]);
  if (splits == 1) op.store(o * I + i, a);
  else partial[(o * I + i) * splits + split] = a;
}

// out[o] = merge of partial[o * splits .. + splits), a warp per output.
template <class Op>
__global__ void __launch_bounds__(32 * kWarpRows)
    merge_partials_kernel(const typename Op::A* __restrict__ partial, int64_t outputs, int splits, Op op) {
  using A = typename Op::A;
  int64_t o = int64_t(blockIdx.x) * blockDim.y + threadIdx.y;
  if (o >= outputs) return;
  A a = op.identity();
  for (int s = int(threadIdx.x); s < splits; s += 32) a = op.merge(a, partial[o * splits + s]);
  a = group_allreduce(a, MergeOf<Op>{op});
  if (threadIdx.x == 0) op.store(o, a);
}

// Workspace for `n` accumulators of type A on `dev` (freed in stream order by the allocator).
template <class A> Tensor workspace(int64_t n, Device dev) {
  return empty_tensor({ceil_div(n * int64_t(sizeof(A)), 8)}, DType::Float64, dev);
}

template <class Op> void merge_partials(const Tensor& ws, int64_t outputs, int splits, const Op& op, cudaStream_t s) {
  dim3 block(32, kWarpRows);
  merge_partials_kernel<Op><<<unsigned(ceil_div(outputs, kWarpRows)), block, 0, s>>>(
      static_cast<const typename Op::A*>(ws.data_ptr()), outputs, splits, op);
  VT_CUDA_KERNEL_LAUNCH_CHECK();
}

template <class T, class Op> void reduce_inner(const ReduceLayout& L, const Op& op, Device dev, cudaStream_t s) {
  using D = dev_t<T>;
  using A = typename Op::A;
  constexpr int VEC = vec_size<D>();
  const D* x = static_cast<const D*>(L.src.data_ptr());
  int64_t O = L.O, R = L.R;
  bool vec = uintptr_t(x) % (VEC * sizeof(D)) == 0 && (O == 1 || R % VEC == 0);
  auto kernel = reduce_inner_kernel<VEC, D, Op>;
  VT_CHECK(O < (int64_t(1) << 31) * kWarpRows, "CUDA reduction: ", O, " rows are too many for one launch");
  if (R <= kShortRow) {
    reduce_short_rows_kernel<D, Op><<<unsigned(ceil_div(O, kShortRowThreads)), kShortRowThreads, 0, s>>>(x, O, R, op);
    VT_CUDA_KERNEL_LAUNCH_CHECK();
    return;
  }
  if (R <= kWarpRowMax) {
    dim3 block(32, kWarpRows);
    kernel<<<unsigned(ceil_div(O, kWarpRows)), block, 0, s>>>(x, O, R, R, 1, vec, op, nullptr);
    VT_CUDA_KERNEL_LAUNCH_CHECK();
    return;
  }
  static std::array<std::atomic<int>, cuda::kMaxDevices> occupancy{};
  int64_t wave = resident_blocks(kernel, kInnerBlock, dev.index, occupancy);
  // Few rows: cut each into chunks of at least one unrolled pass (4 vectors per thread).
  int64_t splits = 1;
  if (O < wave) {
    splits = std::min<int64_t>({ceil_div(wave, O), ceil_div(R, int64_t(kInnerBlock) * VEC * 4), kMaxSplits});
    if (splits < 1) splits = 1;
  }
  int64_t chunk = ceil_div(ceil_div(R, splits), VEC) * VEC;
  splits = ceil_div(R, chunk);
  Tensor ws;
  if (splits > 1) ws = workspace<A>(O * splits, dev);
  dim3 grid(static_cast<unsigned>(O), static_cast<unsigned>(splits));
  kernel<<<grid, kInnerBlock, 0, s>>>(x, O, R, chunk, int(splits), vec, op,
                                      splits > 1 ? static_cast<A*>(ws.data_ptr()) : nullptr);
  VT_CUDA_KERNEL_LAUNCH_CHECK();
  if (splits > 1) merge_partials(ws, O, int(splits), op, s);
}

template <class T, class Op> void reduce_outer(const ReduceLayout& L, const Op& op, Device dev, cudaStream_t s) {
  using D = dev_t<T>;
  using A = typename Op::A;
  int64_t O = L.O, R = L.R, I = L.I;
  int64_t tiles = ceil_div(I, kOuterCols), blocks = O * tiles;
  VT_CHECK(blocks < (int64_t(1) << 31), "CUDA reduction: ", O * I, " outputs are too many for one launch");
  auto kernel = reduce_outer_kernel<D, Op>;
  static std::array<std::atomic<int>, cuda::kMaxDevices> occupancy{};
  int64_t wave = resident_blocks(kernel, kOuterCols * kOuterRows, dev.index, occupancy);
  int64_t splits = 1;
  if (blocks < wave) splits = std::max<int64_t>(1, std::min<int64_t>({ceil_div(wave, blocks), R / 64, kMaxSplits}));
  int64_t chunk = ceil_div(R, splits);
  if (chunk > 0) splits = ceil_div(R, chunk);
  else splits = 1;  // R == 0: one chunk of nothing (the outputs get the identity)
  Tensor ws;
  if (splits > 1) ws = workspace<A>(O * I * splits, dev);
  dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>(splits)), block(kOuterCols, kOuterRows);
  kernel<<<grid, block, 0, s>>>(static_cast<const D*>(L.src.data_ptr()), R, I, tiles, chunk, int(splits), op,
                                splits > 1 ? static_cast<A*>(ws.data_ptr()) : nullptr);
  VT_CUDA_KERNEL_LAUNCH_CHECK();
  if (splits > 1) merge_partials(ws, O * I, int(splits), op, s);
}

// Runs `op` (holding the output pointers) over the planned layout of a CUDA tensor.
template <class T, class Op> void run_reduction(const ReduceLayout& L, const Op& op) {
  if (L.O * L.I == 0) return;
  Device dev = L.src.device();
  cuda::DeviceGuard guard(dev.index);
  cudaStream_t s = cuda::current_stream(dev.index).handle();
  if (L.I == 1) reduce_inner<T>(L, op, dev, s);
  else reduce_outer<T>(L, op, dev, s);
}

void check_cuda(const char* op, const Tensor& t) {
  VT_CHECK(t.device().is_cuda(), op, ": the CUDA kernel got a tensor on ", t.device());
}

// sum and mean: the input is first converted to the result dtype (as torch does for dtype=).
Tensor sum_like(const char* op, const Tensor& self, const std::optional<IntList>& dim, bool keepdim, DType out_dtype,
                bool mean) {
  check_cuda(op, self);
  ReductionDims rd = reduction_dims(self.sizes(), dim, keepdim, op);
  DType compute = out_dtype == DType::Bool ? DType::Int64 : out_dtype;
  NoGradGuard no_grad;  // conversions and layout copies made here are never part of a graph
  Tensor x = cast_to(self, compute);
  Tensor out = empty_tensor(rd.out_shape, compute, self.device());
  ReduceLayout L = plan_reduction(x, rd.reduced);
  VT_DISPATCH_NUMERIC(compute, op, [&]<class T>() {
    using D = dev_t<T>;
    using A = typename SumOp<D>::A;
    run_reduction<T>(L, SumOp<D>{static_cast<D*>(out.data_ptr()), mean ? A(rd.count) : A(1), mean});
  });
  if (out_dtype == DType::Bool) return ops::to_dtype(out, DType::Bool);
  return out;
}

Tensor sum_cuda(const Tensor& self, const std::optional<IntList>& dim, bool keepdim, std::optional<DType> dtype) {
  return sum_like("sum", self, dim, keepdim, sum_result_dtype(self.dtype(), dtype), false);
}

Tensor mean_cuda(const Tensor& self, const std::optional<IntList>& dim, bool keepdim, std::optional<DType> dtype) {
  return sum_like("mean", self, dim, keepdim, mean_result_dtype(self.dtype(), dtype), true);
}

template <bool IsMax>
Tensor amax_amin_cuda(const Tensor& self, const std::optional<IntList>& dim, bool keepdim) {
  const char* op = IsMax ? "amax" : "amin";
  check_cuda(op, self);
  ReductionDims rd = check_extremum_args(op, self, dim, keepdim);
  Tensor out = empty_tensor(rd.out_shape, self.dtype(), self.device());
  NoGradGuard no_grad;
  ReduceLayout L = plan_reduction(self, rd.reduced);
  VT_DISPATCH_ALL(self.dtype(), op, [&]<class T>() {
    using D = dev_t<T>;
    run_reduction<T>(L, MaxMinOp<D, IsMax>{static_cast<D*>(out.data_ptr())});
  });
  return out;
}

template <bool IsMax>
std::tuple<Tensor, Tensor> max_min_dim_cuda(const Tensor& self, int64_t dim, bool keepdim) {
  const char* op = IsMax ? "max" : "min";
  check_cuda(op, self);
  ReductionDims rd = check_extremum_dim_args(op, self, dim, keepdim);
  Tensor values = empty_tensor(rd.out_shape, self.dtype(), self.device());
  Tensor indices = empty_tensor(rd.out_shape, DType::Int64, self.device());
  NoGradGuard no_grad;
  ReduceLayout L = plan_reduction(self, rd.reduced);
  VT_DISPATCH_ALL(self.dtype(), op, [&]<class T>() {
    using D = dev_t<T>;
    run_reduction<T>(L, ArgOp<D, IsMax>{static_cast<D*>(values.data_ptr()), static_cast<int64_t*>(indices.data_ptr())});
  });
  return {values, indices};
}

// argmax without dim indexes the flattened tensor.
template <bool IsMax>
Tensor argmax_argmin_cuda(const Tensor& self, std::optional<int64_t> dim, bool keepdim) {
  const char* op = IsMax ? "argmax" : "argmin";
  check_cuda(op, self);
  ReductionDims rd = check_arg_extremum_args(op, self, dim, keepdim);
  Tensor indices = empty_tensor(rd.out_shape, DType::Int64, self.device());
  NoGradGuard no_grad;
  ReduceLayout L = plan_reduction(self, rd.reduced);
  VT_DISPATCH_NUMERIC(self.dtype(), op, [&]<class T>() {
    using D = dev_t<T>;
    run_reduction<T>(L, ArgOp<D, IsMax>{nullptr, static_cast<int64_t*>(indices.data_ptr())});
  });
  return indices;
}

}  // namespace

VT_REGISTER_KERNEL("vt::sum", CUDA, sum_cuda);
VT_REGISTER_KERNEL("vt::mean", CUDA, mean_cuda);
VT_REGISTER_KERNEL("vt::amax", CUDA, amax_amin_cuda<true>);
VT_REGISTER_KERNEL("vt::amin", CUDA, amax_amin_cuda<false>);
VT_REGISTER_KERNEL("vt::max_dim", CUDA, max_min_dim_cuda<true>);
VT_REGISTER_KERNEL("vt::min_dim", CUDA, max_min_dim_cuda<false>);
VT_REGISTER_KERNEL("vt::argmax", CUDA, argmax_argmin_cuda<true>);
VT_REGISTER_KERNEL("vt::argmin", CUDA, argmax_argmin_cuda<false>);

}  // namespace vt::cuda_kernels
