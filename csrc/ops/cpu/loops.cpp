#include "ops/cpu/loops.h"

#include "core/checked_math.h"

namespace vt::cpu {

StridedIter::StridedIter(const Tensor* const* ops, int n, IntArrayRef out_shape) : nops(n) {
  VT_CHECK(n <= kMaxOperands, "elementwise: too many operands");
  int nd = int(out_shape.size());
  VT_CHECK(nd <= kMaxDims, "elementwise: tensors with more than ", kMaxDims, " dimensions are not supported");
  // A shape beyond int64 is an error; with no element, strides need not be representable in bytes
  // (Note [Shape overflow]), so nothing below is computed.
  numel = numel_of(out_shape);
  if (numel == 0) { ndim = 0; return; }
  int64_t tmp_shape[kMaxDims];
  int64_t tmp_strides[kMaxDims][kMaxOperands];
  for (int d = 0; d < nd; ++d) tmp_shape[d] = out_shape[d];
  for (int k = 0; k < n; ++k) {
    const Tensor& t = *ops[k];
    base[k] = static_cast<char*>(t.data_ptr());
    int64_t es = itemsize(t.dtype());
    int td = int(t.dim());
    for (int d = 0; d < nd; ++d) {
      int sd = d - (nd - td);
      tmp_strides[d][k] = (sd < 0 || t.sizes()[sd] == 1) ? 0 : t.strides()[sd] * es;
    }
  }
  // Drop size-1 dims, then merge dim d into d-1 where every operand is contiguous across them.
  ndim = 0;
  for (int d = 0; d < nd; ++d) {
    if (tmp_shape[d] == 1) continue;
    if (ndim > 0) {
      bool mergeable = true;
      int64_t span;
      for (int k = 0; k < n && mergeable; ++k)
        mergeable = !mul_overflows(tmp_strides[d][k], tmp_shape[d], &span) && strides[ndim - 1][k] == span;
      if (mergeable) {
        shape[ndim - 1] *= tmp_shape[d];
        for (int k = 0; k < n; ++k) strides[ndim - 1][k] = tmp_strides[d][k];
        continue;
      }
    }
    shape[ndim] = tmp_shape[d];
    for (int k = 0; k < n; ++k) strides[ndim][k] = tmp_strides[d][k];
    ndim++;
  }
}

}  // namespace vt::cpu
