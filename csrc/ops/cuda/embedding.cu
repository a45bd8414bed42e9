// CUDA kernels of embedding (a gather of weight rows, indices bounds-checked on the device: Note
// [CUDA index checks]) and embedding_backward (the dense weight gradient, deterministic: Note
// [Deterministic embedding backward]).
#include <cub/device/device_radix_sort.cuh>

#include "ops/cuda/device_types.cuh"
#include "ops/cuda/index_check.cuh"
#include "ops/cuda/kernel_args.cuh"
#include "ops/embedding_args.h"
#include "ops/suite/families.h"

namespace vt::cuda_kernels {
namespace {

// Note [Deterministic embedding backward]
// Repeated indices must add their grad rows into one weight row. Float atomics would add them
// in a different order on every run; instead the flattened indices are sorted with their
// positions (CUB's radix sort is stable, so positions stay ascending within one index value).
// Every run of equal indices in the sorted order is then one segment. A segment can hold most of
// the indices (a vocabulary of 36 tokens over 16k positions: segments of ~500 rows), so one thread
// summing a whole segment serializes the step (3.1 ms of seq_reverse's 4.1 ms of kernel time on an
// H100, benchmarks/kernel_breakdown.py). So the sum has two levels, both in a fixed order:
// - pieces: the sorted entries are cut into chunks of kPiece; a piece is the part of a segment
//   inside one chunk. The thread at a piece's first entry sums the piece's grad rows (ascending
//   positions) into a float partial row of its own (partials has one row per entry; rows of
//   entries that start no piece are never read);
// - segments: the thread at a segment's first entry adds the partials of the segment's pieces
//   (its first entry, then every chunk start inside the segment) and writes the weight row once.
// Rows no index names are zero (memset first). The result is bitwise reproducible run to run; it
// sums in position order within a piece and piece order across pieces (not the CPU's one-by-one
// order, so CPU and CUDA agree to rounding, as torch's do).

constexpr int kThreads = 256;

// One thread row per index (blockDim.y of them a block, striding over the indices), its threads along
// the row's columns: an index is read once per row and no element divides by dim, which the former
// grid-stride loop over elements did for every element (1.45x-1.80x torch's forward at 16k x 1024 on an
// H100, session 34). A bad index writes a zero row and is reported once.
template <class D, class I>
__global__ void embedding_kernel(const D* __restrict__ w, int64_t w_row_stride, int64_t w_col_stride,
                                 const I* __restrict__ idx, D* __restrict__ out, int64_t n, int64_t dim, int64_t num_rows,
                                 DeviceIndexCheck chk) {
  const int64_t step = int64_t(gridDim.x) * blockDim.y;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.y + threadIdx.y; i < n; i += step) {
    const int64_t row = int64_t(idx[i]);
    D* o = out + i * dim;
    if (row < 0 || row >= num_rows) {
      if (threadIdx.x == 0) chk.report(row);
      for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) o[c] = from_opmath<D>(dev_opmath_t<D>(0));
      continue;
    }
    const D* src = w + row * w_row_stride;
    for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) o[c] = src[c * w_col_stride];
  }
}

// The forward's block: threads along a row as wide as the row allows (32 to 128), the rest of 256 over rows.
dim3 embedding_block(int64_t dim) {
  const unsigned x = dim >= 128 ? 128 : dim >= 64 ? 64 : 32;
  return dim3(x, kThreads / x);
}

Tensor embedding_cuda(const Tensor& weight, const Tensor& indices) {
  const char* op = "embedding";
  check_cuda(op, weight);
  VT_CHECK(indices.device() == weight.device(), op, ": expected indices on the weight's device ", weight.device(), ", got ",
           indices.device());
  VT_CHECK_VALUE(weight.dim() == 2, "embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape ",
                 shape_str(weight.sizes()));
  VT_CHECK_TYPE(indices.dtype() == DType::Int64 || indices.dtype() == DType::Int32, op,
                ": expected the index to be an int64 or int32 tensor, got ", indices.dtype());
  int64_t V = weight.sizes()[0], dim = weight.sizes()[1];
  DimVector shape(indices.sizes());
  shape.push_back(dim);
  Tensor out = empty_tensor(shape, weight.dtype(), weight.device());
  int64_t n = indices.numel();
  if (out.numel() == 0) return out;  // no index, or dim == 0: nothing is read
  Tensor idx = contiguous_as(indices, indices.dtype());
  int dev = weight.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  IndexCheck check(op, weight.device());
  if (suite::embedding_forward(weight, idx, out, check.flag(), n, dim)) {
    check.raise_if_bad("0 <= index < ", V, ", the rows of the weight");
    return out;
  }
  const dim3 block = embedding_block(dim);
  int64_t blocks = (n + block.y - 1) / block.y;
  if (blocks > 65536) blocks = 65536;  // the kernel strides over the rest
  VT_DISPATCH_ALL(weight.dtype(), op, [&]<class T>() {
    using D = dev_t<T>;
    auto launch = [&]<class I>() {
      embedding_kernel<D, I><<<unsigned(blocks), block, 0, stream>>>(
          static_cast<const D*>(weight.data_ptr()), weight.strides()[0], weight.strides()[1],
          static_cast<const I*>(idx.data_ptr()), static_cast<D*>(out.data_ptr()), n, dim, V, check.device_side());
      VT_CUDA_KERNEL_LAUNCH_CHECK();
    };
    if (idx.dtype() == DType::Int64) launch.template operator()<int64_t>();
    else launch.template operator()<int32_t>();
  });
  check.raise_if_bad("0 <= index < ", V, ", the rows of the weight");
  return out;
}

constexpr int64_t kPiece = 32;  // sorted entries per chunk (Note [Deterministic embedding backward])

// One thread row per (sorted entry, column group): entries that start a piece sum it into partials.
template <class D>
__global__ void embedding_piece_sum_kernel(const int64_t* __restrict__ sorted_idx, const int64_t* __restrict__ sorted_pos,
                                           const D* __restrict__ grad, dev_opmath_t<D>* __restrict__ partials, int64_t n,
                                           int64_t dim) {
  using A = dev_opmath_t<D>;
  int64_t j = int64_t(blockIdx.x) * blockDim.y + threadIdx.y;
  if (j >= n) return;
  int64_t row = sorted_idx[j];
  if (j % kPiece != 0 && sorted_idx[j - 1] == row) return;  // inside a piece
  int64_t end = (j / kPiece + 1) * kPiece;
  if (end > n) end = n;
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
    A acc = A(0);
    for (int64_t k = j; k < end && sorted_idx[k] == row; ++k) acc += to_opmath(grad[sorted_pos[k] * dim + c]);
    partials[j * dim + c] = acc;
  }
}

// One thread row per (sorted entry, column group): entries that start a segment add its pieces'
// partials and write the weight row (a bad index is reported, never written).
template <class D>
__global__ void embedding_segment_sum_kernel(const int64_t* __restrict__ sorted_idx,
                                             const dev_opmath_t<D>* __restrict__ partials, D* __restrict__ gw, int64_t n,
                                             int64_t dim, int64_t num_rows, DeviceIndexCheck chk) {
  using A = dev_opmath_t<D>;
  int64_t j = int64_t(blockIdx.x) * blockDim.y + threadIdx.y;
  if (j >= n) return;
  int64_t row = sorted_idx[j];
  if (j > 0 && sorted_idx[j - 1] == row) return;  // not the first entry of its segment
  if (row < 0 || row >= num_rows) {
    if (threadIdx.x == 0) chk.report(row);
    return;
  }
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
    A acc = partials[j * dim + c];
    for (int64_t k = (j / kPiece + 1) * kPiece; k < n && sorted_idx[k] == row; k += kPiece) acc += partials[k * dim + c];
    gw[row * dim + c] = from_opmath<D>(acc);
  }
}

// Bits needed to sort keys in [0, num_rows): keys outside that range (reported by the segment
// kernel) may then sort out of order, but never write memory.
int key_bits(int64_t num_rows) {
  int b = 1;
  while (b < 63 && (int64_t(1) << b) < num_rows) ++b;
  return b;
}

Tensor embedding_backward_cuda(const Tensor& grad, const Tensor& indices, int64_t num_weights) {
  const char* op = "embedding_backward";
  check_cuda(op, grad);
  int64_t dim = check_embedding_backward_args(grad, indices, num_weights);
  int64_t n = indices.numel();
  VT_CHECK_VALUE(n < (int64_t(1) << 31), op, ": expected fewer than 2^31 indices, got ", n);
  Tensor g = contiguous_as(grad, grad.dtype());
  Tensor gw = empty_tensor({num_weights, dim}, grad.dtype(), grad.device());
  int dev = grad.device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  if (gw.numel() > 0) VT_CUDA_CHECK(cudaMemsetAsync(gw.data_ptr(), 0, size_t(gw.numel() * itemsize(gw.dtype())), stream));
  if (n == 0 || dim == 0) return gw;
  Tensor keys = contiguous_as(indices, DType::Int64);
  Tensor positions;
  {
    NoGradGuard no_grad;
    positions = ops::arange(Scalar(int64_t(0)), Scalar(n), Scalar(int64_t(1)), DType::Int64, grad.device());
  }
  Tensor sorted_keys = empty_tensor({n}, DType::Int64, grad.device());
  Tensor sorted_pos = empty_tensor({n}, DType::Int64, grad.device());
  auto* kin = static_cast<const int64_t*>(keys.data_ptr());
  auto* kout = static_cast<int64_t*>(sorted_keys.data_ptr());
  auto* vin = static_cast<const int64_t*>(positions.data_ptr());
  auto* vout = static_cast<int64_t*>(sorted_pos.data_ptr());
  int bits = key_bits(num_weights);
  size_t temp_bytes = 0;
  VT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, kin, kout, vin, vout, int(n), 0, bits, stream));
  Tensor temp = empty_tensor({int64_t((temp_bytes + 7) / 8)}, DType::Int64, grad.device());
  VT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.data_ptr(), temp_bytes, kin, kout, vin, vout, int(n), 0, bits, stream));
  IndexCheck check(op, grad.device());
  if (suite::embedding_backward_accepts(g, n, dim)) {
    Tensor partial = empty_tensor({n, dim}, DType::Float32, grad.device());
    if (suite::embedding_backward(sorted_keys, sorted_pos, g, partial, gw, check.flag(), n, dim)) {
      check.raise_if_bad("0 <= index < ", num_weights, ", the rows of the weight");
      return gw;
    }
  }
  dim3 block(32, 8);
  unsigned blocks = unsigned((n + block.y - 1) / block.y);
  VT_DISPATCH_FLOATING(grad.dtype(), op, [&]<class T>() {
    using D = dev_t<T>;
    using A = dev_opmath_t<D>;
    DType partial_dtype = sizeof(A) == 8 ? DType::Float64 : DType::Float32;
    Tensor partials = empty_tensor({n, dim}, partial_dtype, grad.device());
    auto* pp = static_cast<A*>(partials.data_ptr());
    embedding_piece_sum_kernel<D><<<blocks, block, 0, stream>>>(kout, vout, static_cast<const D*>(g.data_ptr()), pp, n, dim);
    VT_CUDA_KERNEL_LAUNCH_CHECK();
    embedding_segment_sum_kernel<D><<<blocks, block, 0, stream>>>(kout, pp, static_cast<D*>(gw.data_ptr()), n, dim,
                                                                  num_weights, check.device_side());
    VT_CUDA_KERNEL_LAUNCH_CHECK();
  });
  check.raise_if_bad("0 <= index < ", num_weights, ", the rows of the weight");
  return gw;
}

}  // namespace

VT_REGISTER_KERNEL("vt::embedding", CUDA, embedding_cuda);
VT_REGISTER_KERNEL("vt::embedding_backward", CUDA, embedding_backward_cuda);

}  // namespace vt::cuda_kernels
