#pragma once
// The argument checks, result and input windows of cat, shared by the kernels of every device.
#include <vector>

#include "ops/ops.h"

namespace vt {

struct CatPlan {
  Tensor out;   // the result: promoted dtype, uninitialized
  int64_t dim = 0;
  // The inputs that contribute elements, with the output view each one fills.
  struct Piece {
    const Tensor* input;
    int64_t offset;  // start along dim in out
    Tensor window;   // out's view of the input's shape at that offset
  };
  std::vector<Piece> pieces;
};

// torch's rules: every input on one device, dtypes promoted, shapes equal but along dim; a 1-D
// tensor of size 0 is skipped in a cat of any shape (legacy behaviour).
CatPlan plan_cat(const TensorList& tensors, int64_t dim);

}  // namespace vt
