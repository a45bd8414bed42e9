#pragma once
// The dim of sort and cumsum, shared by their kernels on every device: wrapped (IndexError naming
// the range), with the [O, N, I] view of a contiguous tensor around it.
#include "ops/ops.h"
#include "ops/reduction_util.h"

namespace vt {

// The dim of a scan / sort over `self` (a 0-d tensor takes 0 and -1, as in torch) with its layout.
struct ScanDim {
  int64_t dim;
  DimLayout layout;
};

inline ScanDim scan_dim(const Tensor& self, int64_t dim, const char* op) {
  int64_t d = wrap_dim(dim, self.dim(), op);
  return {d, self.dim() == 0 ? DimLayout{} : layout_around_dim(self.sizes(), d)};
}

}  // namespace vt
