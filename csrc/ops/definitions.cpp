// Schemas of every op (from op_list.h) and the C++ API that calls them through typed handles.
#include "ops/ops.h"

namespace vt::ops {

#define VT_DEFINE(ret, name, params, args, schema)                          \
  VT_DEFINE_OP(schema);                                                      \
  ret name params {                                                          \
    static const ::vt::TypedOp<ret params> op("vt::" #name);                 \
    return op args;                                                          \
  }
VT_FOR_EACH_OP(VT_DEFINE)
#undef VT_DEFINE

namespace {
// Note [Autocast]: the dispatcher casts operands through the differentiable to_dtype.
struct InstallAutocastCast {
  InstallAutocastCast() { autocast::set_cast_fn(&to_dtype); }
} g_install_autocast_cast;
}  // namespace

Tensor zeros(const IntList& size, DType dtype, Device device) { return full(size, Scalar(int64_t(0)), dtype, device); }
Tensor ones(const IntList& size, DType dtype, Device device) { return full(size, Scalar(int64_t(1)), dtype, device); }
Tensor scalar_tensor(const Scalar& s, DType dtype, Device device) { return full({}, s, dtype, device); }

Tensor wrap_scalar(const Scalar& s) {
  // Floats are kept in double so that float64 tensors see the exact Python value.
  DType dt = s.is_floating() ? DType::Float64 : s.default_dtype();
  Tensor t = empty_tensor({}, dt, Device{});
  switch (s.kind()) {
    case Scalar::Kind::Float: *t.data<double>() = s.to_double(); break;
    case Scalar::Kind::Int: *t.data<int64_t>() = s.to_int(); break;
    case Scalar::Kind::Bool: *t.data<bool>() = s.to<bool>(); break;
  }
  t->is_wrapped_number = true;
  return t;
}

}  // namespace vt::ops
