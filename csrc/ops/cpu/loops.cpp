#include "ops/cpu/loops.h"

namespace vt::cpu {

StridedIter::StridedIter(const Tensor* const* ops, int n, IntArrayRef out_shape) : nops(n) {
  VT_CHECK(n <= kMaxOperands, "elementwise: too many operands");
  int nd = int(out_shape.size());
  VT_CHECK(nd <= kMaxDims, "elementwise: tensors with more than ", kMaxDims, " dimensions are not supported");
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
      for (int k = 0; k < n && mergeable; ++k)
        mergeable = strides[ndim - 1][k] == tmp_strides[d][k] * tmp_shape[d];
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
  numel = 1;
  for (int d = 0; d < ndim; ++d) numel *= shape[d];
  if (numel_of(out_shape) == 0) numel = 0;
}

}  // namespace vt::cpu
