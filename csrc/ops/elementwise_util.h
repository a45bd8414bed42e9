#pragma once
// Shared preparation for elementwise kernels (any device): device checks, result dtype,
// broadcast output, operand casts.
#include "ops/ops.h"
#include "ops/type_promotion.h"

namespace vt {

// Every tensor on one device; a wrapped number or a 0-d CPU tensor may join a CUDA op.
void check_same_device(const char* op, std::initializer_list<const Tensor*> ts);
// t itself when it already has dtype d, else a converted copy.
Tensor cast_to(const Tensor& t, DType d);
// For an in-place op: `self` must keep its shape and be able to hold `result` dtype.
void check_inplace(const char* op, const Tensor& self, IntArrayRef result_shape, DType result_dtype);

}  // namespace vt
