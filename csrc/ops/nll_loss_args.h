#pragma once
// Argument checks and shapes of nll_loss, shared by the kernels of every device.
#include "ops/ops.h"

namespace vt {

// self is (C), (N, C) or (N, C, d1, ...) with target (), (N) or (N, d1, ...); both are viewed as
// [N, C, D] and [N, D], D the product of the extra dims.
struct NllShape {
  int64_t N = 1, C = 1, D = 1;
};

// Checks dtypes, devices and shapes; TypeError / ValueError naming what was given otherwise.
NllShape check_nll_args(const char* op, const Tensor& self, const Tensor& target);

}  // namespace vt
