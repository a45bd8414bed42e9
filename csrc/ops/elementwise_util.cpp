#include "ops/elementwise_util.h"

namespace vt {

void check_same_device(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (const Tensor* t : ts) {
    if (!t->defined() || (*t)->is_wrapped_number || (t->dim() == 0 && t->device().is_cpu())) continue;
    if (!first) { first = t; continue; }
    VT_CHECK(first->device() == t->device(), op, ": expected all tensors to be on the same device, but found at "
             "least two devices, ", first->device(), " and ", t->device());
  }
}

Tensor cast_to(const Tensor& t, DType d) { return t.dtype() == d ? t : ops::to_dtype(t, d); }

void check_inplace(const char* op, const Tensor& self, IntArrayRef result_shape, DType result_dtype) {
  VT_CHECK_VALUE(result_shape.size() == self.sizes().size() &&
                     std::equal(result_shape.begin(), result_shape.end(), self.sizes().begin()),
                 op, ": output with shape ", shape_str(self.sizes()), " doesn't match the broadcast shape ",
                 shape_str(result_shape));
  VT_CHECK_TYPE(dtype_category(result_dtype) <= dtype_category(self.dtype()), op, ": result type ", result_dtype,
                " can't be cast to the desired output type ", self.dtype());
}

}  // namespace vt
