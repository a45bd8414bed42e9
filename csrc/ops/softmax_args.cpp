#include "ops/softmax_args.h"

#include "core/grad_mode.h"
#include "core/shape.h"
#include "ops/elementwise_util.h"

namespace vt {

int64_t check_softmax_args(const char* op, const Tensor& self, int64_t dim) {
  int64_t d = wrap_dim(dim, self.dim(), op);
  VT_CHECK_TYPE(is_floating(self.dtype()), op, ": expected a floating point tensor, got ", self.dtype());
  return d;
}

SoftmaxBackwardArgs prepare_softmax_backward(const char* op, const Tensor& grad, const Tensor& output, int64_t dim) {
  int64_t d = wrap_dim(dim, output.dim(), op);
  VT_CHECK_VALUE(DimVector(grad.sizes()) == DimVector(output.sizes()), op, ": grad of shape ", shape_str(grad.sizes()),
                 " does not match the output shape ", shape_str(output.sizes()));
  VT_CHECK_TYPE(is_floating(output.dtype()), op, ": expected a floating point output, got ", output.dtype());
  VT_CHECK(grad.device() == output.device(), op, ": expected grad and output on the same device, got ", grad.device(),
           " and ", output.device());
  SoftmaxBackwardArgs a;
  {
    NoGradGuard no_grad;
    a.grad = ops::contiguous(cast_to(grad, output.dtype()));
    a.output = ops::contiguous(output);
  }
  a.grad_input = empty_tensor(output.sizes(), output.dtype(), output.device());
  a.layout = layout_around_dim(output.sizes(), output.dim() == 0 ? 0 : d);
  return a;
}

}  // namespace vt
