#include "core/tensor.h"

namespace vt {

static const std::shared_ptr<autograd::Node> kNoGradFn;

const std::shared_ptr<autograd::Node>& TensorImpl::grad_fn() const { return meta_ ? meta_->grad_fn : kNoGradFn; }

int64_t Tensor::size(int64_t d) const { return impl_->sizes()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return impl_->strides()[wrap_dim(d, dim(), "stride")]; }

Tensor empty_tensor(const DimVector& sizes, DType dtype, Device device) {
  for (int64_t s : sizes)
    VT_CHECK_VALUE(s >= 0, "negative dimension in shape ", shape_str(sizes));
  int64_t n = numel_of(sizes);
  Storage st = allocate_storage(size_t(n * itemsize(dtype)), device);
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(st), dtype, sizes, contiguous_strides(sizes), 0));
}

Tensor make_view(const Tensor& base, IntArrayRef sizes, IntArrayRef strides, int64_t offset) {
  return Tensor(IntrusivePtr<TensorImpl>::make(base->storage(), base.dtype(), sizes, strides, offset));
}

}  // namespace vt
