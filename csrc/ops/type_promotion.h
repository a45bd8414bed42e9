#pragma once
// Result dtypes of elementwise ops, as in torch: wrapped Python numbers and 0-d tensors only
// raise the category (bool < integer < floating) of the result, never its width within one.
#include "core/tensor.h"

namespace vt {

inline int dtype_category(DType t) { return t == DType::Bool ? 0 : is_floating(t) ? 2 : 1; }

struct ResultTypeState {
  DType dim_result = DType::Bool, zero_dim_result = DType::Bool, wrapped_result = DType::Bool;
  bool have_dim = false, have_zero = false, have_wrapped = false;
  void add(const Tensor& t) {
    if (!t.defined()) return;
    if (t->is_wrapped_number) {
      // A Python float gives the default float dtype (Note [Default dtype]), a Python int int64.
      DType d = is_floating(t.dtype()) ? default_float_dtype() : t.dtype();
      wrapped_result = have_wrapped ? promote_types(wrapped_result, d) : d;
      have_wrapped = true;
    } else if (t.dim() == 0) {
      zero_dim_result = have_zero ? promote_types(zero_dim_result, t.dtype()) : t.dtype();
      have_zero = true;
    } else {
      dim_result = have_dim ? promote_types(dim_result, t.dtype()) : t.dtype();
      have_dim = true;
    }
  }
  DType result() const {
    auto combine = [](bool have_a, DType a, bool have_b, DType b, bool& have_out) {
      if (!have_a) { have_out = have_b; return b; }
      have_out = true;
      if (!have_b) return a;
      return dtype_category(b) > dtype_category(a) ? promote_types(a, b) : a;
    };
    bool h1, h2;
    DType r = combine(have_dim, dim_result, have_zero, zero_dim_result, h1);
    r = combine(h1, r, have_wrapped, wrapped_result, h2);
    return r;
  }
};

template <class... Ts> DType result_type(const Ts&... ts) {
  ResultTypeState s;
  (s.add(ts), ...);
  return s.result();
}

}  // namespace vt
