#pragma once
// The C++ op API: every op of op_list.h as a function that dispatches through a typed handle.
#include <optional>
#include <string>
#include <tuple>

#include "dispatch/dispatcher.h"
#include "ops/op_list.h"

namespace vt::ops {

#define VT_DECLARE_OP(ret, name, params, args, schema) ret name params;
VT_FOR_EACH_OP(VT_DECLARE_OP)
#undef VT_DECLARE_OP

// Conveniences over the ops above.
Tensor zeros(const IntList& size, DType dtype, Device device);
Tensor ones(const IntList& size, DType dtype, Device device);
Tensor scalar_tensor(const Scalar& s, DType dtype, Device device);
// A 0-d tensor for a Python number; it does not decide result dtypes alone (is_wrapped_number).
Tensor wrap_scalar(const Scalar& s);

}  // namespace vt::ops
