// CUDA kernel of matmul over cuBLAS: torch's shape semantics (dot, mv, mm, batched with
// broadcast batch dims), float32/float64/float16/bfloat16. See Note [CUDA matmul].
#include <cublas_v2.h>

#include <climits>

#include "alloc/allocator.h"
#include "cuda/device.h"
#include "cuda/matmul_settings.h"
#include "cuda/stream.h"
#include "ops/cuda/blas_handle.cuh"
#include "ops/matmul_geometry.h"
#include "ops/ops.h"
#include "ops/suite/families.h"

namespace vt::cuda_kernels {
namespace {

// Note [CUDA matmul]
// The operands' geometry is the CPU kernel's (ops/matmul_geometry.h, Note [CPU matmul]): a
// matrix with unit row or column stride goes to cuBLAS as it is, with the transpose flag saying
// which, and only other layouts are copied. cuBLAS is column-major, so the row-major product
// C = A B is issued as C^T = B^T A^T: a row-major matrix is its own transpose in column-major
// terms, so no data moves. Batches, in order of preference:
// - the right operand is shared by every batch and the left one's rows are evenly spaced:
//   one gemm with the batch folded into the rows (linear on a 3-D input, and its backward);
// - each operand's batches are evenly spaced (stride 0 when broadcast): one strided-batched
//   gemm;
// - otherwise (batch dims that do not flatten into one stride, such as the heads of a
//   permuted attention projection): that operand is first copied into (batch, rows, cols)
//   order, one copy kernel, and the product is one strided-batched gemm. (One gemm per batch
//   would launch batch-many kernels: 256 per attention matmul of seq_reverse.)
// float16/bfloat16 accumulate in float32 (CUBLAS_COMPUTE_32F), float32 uses TF32 tensor cores
// only when allowed (Note [TF32 matmul]), float64 computes in float64.

// Bytes of cuBLAS workspace per call: PyTorch's default for Hopper (":4096:8", 32 MiB) covers
// the kernels cuBLAS picks for large products there.
constexpr size_t kWorkspaceBytes = size_t(32) << 20;

struct GemmTypes {
  cudaDataType_t data;
  cublasComputeType_t compute;
  bool double_scalars;
};

GemmTypes gemm_types(DType dt) {
  switch (dt) {
    case DType::Float32:
      return {CUDA_R_32F, cuda::allow_tf32_matmul() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, false};
    case DType::Float64: return {CUDA_R_64F, CUBLAS_COMPUTE_64F, true};
    case DType::Float16: return {CUDA_R_16F, CUBLAS_COMPUTE_32F, false};
    case DType::BFloat16: return {CUDA_R_16BF, CUBLAS_COMPUTE_32F, false};
    default:
      VT_CHECK_KIND(ErrorKind::NotImplemented, false, "matmul on CUDA supports float32, float64, float16 and bfloat16, got ",
                    dt);
  }
  return {};
}

int blas_int(int64_t v, const char* what) {
  VT_CHECK(v <= INT_MAX, "matmul: ", what, " of ", v, " exceeds the cuBLAS limit of ", INT_MAX);
  return int(v);
}

// One cuBLAS call's worth of context: handle bound to the stream, types, scalars.
struct Gemm {
  cublasHandle_t handle;
  GemmTypes types;
  size_t itemsize;
  float alpha_f = 1.0f, beta_f = 0.0f;
  double alpha_d = 1.0, beta_d = 0.0;
  const void* alpha() const { return types.double_scalars ? static_cast<const void*>(&alpha_d) : &alpha_f; }
  const void* beta() const { return types.double_scalars ? static_cast<const void*>(&beta_d) : &beta_f; }

  // Row-major C (m x n, ld n) = A (m x k) B (k x n), issued as column-major C^T = B^T A^T.
  void mm(bool ta, bool tb, int m, int n, int k, const char* A, int64_t lda, const char* B, int64_t ldb, char* C) const {
    VT_CUBLAS_CHECK(cublasGemmEx(handle, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, alpha(),
                                 B, types.data, int(ldb), A, types.data, int(lda), beta(), C, types.data, n,
                                 types.compute, CUBLAS_GEMM_DEFAULT));
  }
  void bmm(bool ta, bool tb, int m, int n, int k, const char* A, int64_t lda, int64_t sa, const char* B, int64_t ldb,
           int64_t sb, char* C, int batches) const {
    VT_CUBLAS_CHECK(cublasGemmStridedBatchedEx(handle, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, n,
                                               m, k, alpha(), B, types.data, int(ldb), sb, A, types.data, int(lda), sa,
                                               beta(), C, types.data, n, int64_t(m) * n, batches, types.compute,
                                               CUBLAS_GEMM_DEFAULT));
  }
};

void run_gemms(const Gemm& g, const matmul::Operand& a, const matmul::Operand& b, IntArrayRef batch, char* out) {
  int64_t m = a.rows, k = a.cols, n = b.cols, nb = numel_of(batch);
  int N = blas_int(n, "column count"), K = blas_int(k, "inner size");
  if (matmul::batch_shared(b) && !a.layout.trans) {
    int64_t rs = matmul::folded_row_stride(a, batch);
    if (rs >= std::max<int64_t>(k, 1) && rs <= INT_MAX) {
      g.mm(false, b.layout.trans, blas_int(nb * m, "row count"), N, K, a.data, rs, b.data, b.layout.ld, out);
      return;
    }
  }
  int M = blas_int(m, "row count");
  if (nb == 1) {
    g.mm(a.layout.trans, b.layout.trans, M, N, K, a.data, a.layout.ld, b.data, b.layout.ld, out);
    return;
  }
  std::vector<int64_t> aoff = matmul::batch_offsets(batch, a.batch_strides);
  std::vector<int64_t> boff = matmul::batch_offsets(batch, b.batch_strides);
  int64_t sa = matmul::uniform_stride(aoff), sb = matmul::uniform_stride(boff);
  if (sa >= 0 && sb >= 0) {
    g.bmm(a.layout.trans, b.layout.trans, M, N, K, a.data, a.layout.ld, sa, b.data, b.layout.ld, sb, out,
          blas_int(nb, "batch count"));
    return;
  }
  VT_CHECK(false, "matmul: internal error: batches of uneven stride reached cuBLAS (", sa, ", ", sb, ")");
}

// An operand whose batches are not evenly spaced, copied into contiguous (batch..., rows, cols).
void flatten_batches(Tensor& t, matmul::Operand& o, bool is_left, IntArrayRef batch) {
  if (numel_of(batch) < 2 || matmul::uniform_stride(matmul::batch_offsets(batch, o.batch_strides)) >= 0) return;
  IntList sizes(batch.begin(), batch.end()), strides(o.batch_strides.begin(), o.batch_strides.end());
  sizes.push_back(o.rows), sizes.push_back(o.cols);
  strides.push_back(o.sr), strides.push_back(o.sc);
  t = ops::contiguous(ops::as_strided(t, sizes, strides, t->offset()));
  o = matmul::make_operand(t, is_left, batch);
}

Tensor matmul_cuda(const Tensor& a, const Tensor& b) {
  matmul::Problem p = matmul::plan(a, b);
  DType dt = a.dtype();
  GemmTypes types = gemm_types(dt);
  int dev = a.device().index;
  cuda::DeviceGuard guard(dev);
  Tensor out = empty_tensor(p.out_shape, dt, a.device());
  if (out.numel() == 0) return out;
  if (p.k == 0) return ops::zero_(out);
  if (suite::matmul(a, b, out, p)) return out;  // Note [Suite scope]

  Tensor ac = a, bc = b;
  matmul::Operand A = matmul::make_operand(ac, true, p.batch), B = matmul::make_operand(bc, false, p.batch);
  if (!A.layout.ok) { ac = ops::clone(a); A = matmul::make_operand(ac, true, p.batch); }
  if (!B.layout.ok) { bc = ops::clone(b); B = matmul::make_operand(bc, false, p.batch); }
  flatten_batches(ac, A, true, p.batch);
  flatten_batches(bc, B, false, p.batch);

  cuda::Stream stream = cuda::current_stream(dev);
  alloc::DeviceAllocator& allocator = alloc::cuda_allocator();
  void* workspace = allocator.allocate(kWorkspaceBytes, dev, stream.handle());
  struct FreeWorkspace {
    alloc::DeviceAllocator& a;
    void* p;
    int dev;
    ~FreeWorkspace() { a.free(p, dev); }  // stream-ordered: reused only after this call's work
  } free_workspace{allocator, workspace, dev};

  Gemm g{blas_handle(dev), types, size_t(itemsize(dt))};
  VT_CUBLAS_CHECK(cublasSetStream(g.handle, stream.handle()));
  VT_CUBLAS_CHECK(cublasSetWorkspace(g.handle, workspace, kWorkspaceBytes));
  run_gemms(g, A, B, p.batch, static_cast<char*>(out.data_ptr()));
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::matmul", CUDA, matmul_cuda);

}  // namespace vt::cuda_kernels
