#include "core/tensor.h"

#include "core/checked_math.h"

namespace vt {

static const std::shared_ptr<autograd::Node> kNoGradFn;

const std::shared_ptr<autograd::Node>& TensorImpl::grad_fn() const { return meta_ ? meta_->grad_fn : kNoGradFn; }

int64_t Tensor::size(int64_t d) const { return impl_->sizes()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return impl_->strides()[wrap_dim(d, dim(), "stride")]; }

void TensorImpl::refresh() {
  VT_CHECK(sizes_.size() == strides_.size(), "Tensor: ", sizes_.size(), " sizes ", shape_str(sizes_), " but ",
           strides_.size(), " strides ", shape_str(strides_), " (expected one stride per dim)");
  int64_t isz = itemsize(dtype_);
  ViewSpan v = view_span(sizes_, strides_, offset_, isz);
  numel_ = v.numel;
  VT_CHECK(uint64_t(v.nbytes) <= uint64_t(storage_->nbytes()), "setStorage: sizes ", shape_str(sizes_), ", strides ",
           shape_str(strides_), ", storage offset ", offset_, ", and itemsize ", isz, " requiring a storage size of ",
           v.nbytes, " are out of bounds for storage of size ", storage_->nbytes(),
           " (a view must lie inside its storage)");
  contiguous_ = is_contiguous_layout(sizes_, strides_);
}

int64_t contiguous_nbytes(IntArrayRef sizes, DType dtype) {
  int64_t nbytes;
  VT_CHECK(!mul_overflows(numel_of(sizes), itemsize(dtype), &nbytes), "Storage size calculation overflowed with sizes=",
           shape_str(sizes), " and itemsize ", itemsize(dtype), ": the tensor's byte size must fit in int64");
  return nbytes;
}

Tensor empty_tensor(const DimVector& sizes, DType dtype, Device device) {
  DimVector strides = contiguous_strides(sizes);
  Storage st = allocate_storage(size_t(contiguous_nbytes(sizes, dtype)), device);
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(st), dtype, sizes, strides, 0));
}

Tensor make_view(const Tensor& base, IntArrayRef sizes, IntArrayRef strides, int64_t offset) {
  return Tensor(IntrusivePtr<TensorImpl>::make(base->storage(), base.dtype(), sizes, strides, offset));
}

}  // namespace vt
