#pragma once
// How matmul operands map onto a BLAS gemm, shared by the CPU (OpenBLAS) and CUDA (cuBLAS)
// kernels: torch's shape rules, the batched view of each operand, and which layouts gemm takes
// without a copy. See Note [CPU matmul] in ops/cpu/matmul.cpp.
#include <vector>

#include "core/tensor.h"

namespace vt::matmul {

// How gemm sees one (rows x cols) matrix with element strides (sr, sc), in row-major terms:
// trans=false: stored row-major with leading dimension ld; trans=true: the stored matrix is the
// transpose, row-major with leading dimension ld. ok=false: neither (needs a copy).
struct GemmLayout {
  bool ok = false;
  bool trans = false;
  int64_t ld = 0;
};
GemmLayout gemm_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc);

// An operand in batched form: sizes/strides of (batch..., rows, cols), batch dims aligned to
// the output's batch dims (stride 0 where broadcast).
struct Operand {
  const char* data;
  int64_t rows, cols, sr, sc;
  DimVector batch_strides;  // elements, one per output batch dim
  GemmLayout layout;
};
Operand make_operand(const Tensor& t, bool is_left, IntArrayRef out_batch);

// The checked problem: output batch shape and matrix sizes of a (m x k) @ (k x n) product.
struct Problem {
  DimVector batch;      // broadcast batch dims of the output
  DimVector out_shape;  // torch's result shape (1-D operands drop their dim)
  int64_t m, n, k;
};
// Checks devices, ranks, dtypes and inner sizes as torch does; raises with the shapes.
Problem plan(const Tensor& a, const Tensor& b);

// Element offsets of each batch of an operand, in the output's batch order.
std::vector<int64_t> batch_offsets(IntArrayRef batch, const DimVector& strides);

// The single row stride of the left operand's rows across all batches, if its (batch..., rows)
// dims collapse into one evenly spaced dim; -1 otherwise.
int64_t folded_row_stride(const Operand& a, IntArrayRef batch);

// The common stride of evenly spaced batch offsets (0 for fewer than two), or -1.
int64_t uniform_stride(const std::vector<int64_t>& offsets);

// True when every batch dim of `o` has stride 0 (one matrix serves every batch).
bool batch_shared(const Operand& o);

}  // namespace vt::matmul
