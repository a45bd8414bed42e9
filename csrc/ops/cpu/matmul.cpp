// CPU kernel of matmul: torch's matmul semantics (dot, mv, mm, batched with broadcast batch
// dims) over OpenBLAS gemm. See Note [CPU matmul].
#include <cblas.h>
#include <omp.h>

#include <climits>
#include <vector>

#include "ops/elementwise_util.h"
#include "ops/matmul_geometry.h"

namespace vt::cpu {
namespace {

using matmul::Operand;
using matmul::batch_offsets;
using matmul::folded_row_stride;
using matmul::make_operand;

// Note [CPU matmul]
// Both operands are brought to batched form (batch..., rows, cols) as strided geometry: a 1-D
// left operand becomes a row (1, k), a 1-D right operand a column (k, 1), and batch dims
// broadcast with stride 0. A matrix whose rows or columns have unit stride goes to gemm as it
// is, transposed or not, so `grad @ W^T` in backward copies nothing; any other layout is copied
// once (the original operand, never its broadcast). When every batch uses the same right
// matrix and the left operand's rows are evenly spaced across batches, the batch folds into
// the rows of one gemm (the linear-layer case: one big product instead of many small ones).
// Otherwise batches loop; they run in parallel when each product is small enough that
// OpenBLAS would not thread it itself (it stays single-threaded below m*n*k = 64^3).
// float16/bfloat16 multiply in float (as torch accumulates them); integers use a plain loop.

constexpr int64_t kBlasSerialMNK = 64 * 64 * 64;

void gemm(bool ta, bool tb, int m, int n, int k, const float* A, int lda, const float* B, int ldb, float* C, int ldc) {
  scipy_cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, A, lda,
                    B, ldb, 0.0f, C, ldc);
}
void gemm(bool ta, bool tb, int m, int n, int k, const double* A, int lda, const double* B, int ldb, double* C, int ldc) {
  scipy_cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0, A, lda,
                    B, ldb, 0.0, C, ldc);
}

// Note [One thread pool]
// OpenBLAS's own threads spin after each call; on a machine with few cores they then hold the
// cores our OpenMP loops need, and every parallel elementwise op waits a scheduler tick
// (measured: seq_reverse on 2 cores went from ~230 ms to over 2 s per step). So OpenBLAS runs
// single-threaded and large products are split across the OpenMP team here: rows of C when M
// is the larger side, columns otherwise. One pool serves every kernel.
const bool kBlasSingleThreaded = [] {
  scipy_openblas_set_num_threads(1);
  return true;
}();

constexpr int64_t kGemmParallelMNK = int64_t(1) << 18;

template <class T>
void gemm_parallel(bool ta, bool tb, int m, int n, int k, const T* A, int lda, const T* B, int ldb, T* C, int ldc) {
  int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (nt <= 1 || int64_t(m) * n * k < kGemmParallelMNK) {
    gemm(ta, tb, m, n, k, A, lda, B, ldb, C, ldc);
    return;
  }
  bool split_rows = m >= n;
  int extent = split_rows ? m : n;
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num(), nthreads = omp_get_num_threads();
    int chunk = ((extent + nthreads - 1) / nthreads + 15) / 16 * 16;  // whole 16-wide panels
    int lo = std::min(extent, t * chunk), hi = std::min(extent, lo + chunk);
    if (lo < hi) {
      if (split_rows)
        gemm(ta, tb, hi - lo, n, k, ta ? A + lo : A + int64_t(lo) * lda, lda, B, ldb, C + int64_t(lo) * ldc, ldc);
      else
        gemm(ta, tb, m, hi - lo, k, A, lda, tb ? B + int64_t(lo) * ldb : B + lo, ldb, C + lo, ldc);
    }
  }
}

int to_blas_int(int64_t v, const char* what) {
  VT_CHECK(v <= INT_MAX, "matmul: ", what, " of ", v, " exceeds the BLAS limit of ", INT_MAX);
  return int(v);
}

template <class T>
void blas_matmul(const Operand& a, const Operand& b, IntArrayRef batch, T* out) {
  int64_t m = a.rows, k = a.cols, n = b.cols;
  int64_t nb = numel_of(batch);
  const T* A = reinterpret_cast<const T*>(a.data);
  const T* B = reinterpret_cast<const T*>(b.data);
  if (matmul::batch_shared(b) && !a.layout.trans) {
    int64_t rs = folded_row_stride(a, batch);
    if (rs >= std::max<int64_t>(k, 1) && rs <= INT_MAX) {
      gemm_parallel(false, b.layout.trans, to_blas_int(nb * m, "row count"), int(n), int(k), A, int(rs), B,
                    int(b.layout.ld), out, int(n));
      return;
    }
  }
  int M = to_blas_int(m, "row count"), N = to_blas_int(n, "column count"), K = to_blas_int(k, "inner size");
  if (nb == 1) {
    gemm_parallel(a.layout.trans, b.layout.trans, M, N, K, A, int(a.layout.ld), B, int(b.layout.ld), out, N);
    return;
  }
  std::vector<int64_t> aoff = batch_offsets(batch, a.batch_strides), boff = batch_offsets(batch, b.batch_strides);
  bool parallel = m * n * k <= kBlasSerialMNK && omp_get_max_threads() > 1 && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t i = 0; i < nb; ++i)
    gemm_parallel(a.layout.trans, b.layout.trans, M, N, K, A + aoff[size_t(i)], int(a.layout.ld), B + boff[size_t(i)],
                  int(b.layout.ld), out + i * m * n, N);
}

// Integer matmul: no BLAS; accumulates each output row from rows of B.
template <class T>
void loop_matmul(const Operand& a, const Operand& b, IntArrayRef batch, T* out) {
  int64_t m = a.rows, k = a.cols, n = b.cols;
  int64_t nb = numel_of(batch);
  const T* A = reinterpret_cast<const T*>(a.data);
  const T* B = reinterpret_cast<const T*>(b.data);
  std::vector<int64_t> aoff = batch_offsets(batch, a.batch_strides), boff = batch_offsets(batch, b.batch_strides);
#pragma omp parallel for schedule(static) if (nb * m * n * k > 32768 && !omp_in_parallel())
  for (int64_t r = 0; r < nb * m; ++r) {
    int64_t bi = r / m, i = r % m;
    const T* arow = A + aoff[size_t(bi)] + i * a.sr;
    const T* bmat = B + boff[size_t(bi)];
    T* o = out + r * n;
    for (int64_t j = 0; j < n; ++j) o[j] = T(0);
    for (int64_t p = 0; p < k; ++p) {
      T av = arow[p * a.sc];
      const T* brow = bmat + p * b.sr;
      for (int64_t j = 0; j < n; ++j) o[j] += av * brow[j * b.sc];
    }
  }
}

Tensor matmul_cpu(const Tensor& a, const Tensor& b) {
  matmul::Problem p = matmul::plan(a, b);
  DType dt = a.dtype();
  if (dt == DType::Float16 || dt == DType::BFloat16)
    return ops::to_dtype(matmul_cpu(ops::to_dtype(a, DType::Float32), ops::to_dtype(b, DType::Float32)), dt);
  const DimVector& batch = p.batch;
  int64_t k = p.k;
  Tensor out = empty_tensor(p.out_shape, dt, a.device());
  if (out.numel() == 0) return out;
  if (k == 0) return ops::zero_(out);

  bool blas = dt == DType::Float32 || dt == DType::Float64;
  Tensor ac = a, bc = b;
  Operand A = make_operand(ac, true, batch), B = make_operand(bc, false, batch);
  if (blas && !A.layout.ok) { ac = ops::clone(a); A = make_operand(ac, true, batch); }
  if (blas && !B.layout.ok) { bc = ops::clone(b); B = make_operand(bc, false, batch); }
  VT_DISPATCH_NUMERIC(dt, "matmul", [&]<class T>() {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) blas_matmul<T>(A, B, batch, out.data<T>());
    else if constexpr (std::is_integral_v<T>) loop_matmul<T>(A, B, batch, out.data<T>());
  });
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::matmul", CPU, matmul_cpu);

}  // namespace vt::cpu
