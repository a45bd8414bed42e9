#pragma once
// TensorImpl: a strided view (sizes, strides, offset, dtype) over a Storage, plus autograd
// metadata allocated only for tensors that take part in autograd. Tensor: a refcounted handle.
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "core/storage.h"

namespace vt {

namespace autograd { struct Node; }
class TensorImpl;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(IntrusivePtr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return bool(impl_); }
  TensorImpl* impl() const { return impl_.get(); }
  TensorImpl* operator->() const { return impl_.get(); }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // Shorthands over the impl.
  IntArrayRef sizes() const;
  IntArrayRef strides() const;
  int64_t dim() const;
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  bool requires_grad() const;
  void* data_ptr() const;
  template <class T> T* data() const { return static_cast<T*>(data_ptr()); }

 private:
  IntrusivePtr<TensorImpl> impl_;
};

// A tensor hook: takes the gradient, returns its replacement or an undefined tensor to keep it.
using GradHook = std::function<Tensor(const Tensor&)>;

// Autograd state of one tensor. See csrc/autograd for how it is used.
struct AutogradMeta {
  bool requires_grad = false;  // meaningful for leaves; non-leaves require grad through grad_fn
  bool retains_grad = false;
  Tensor grad;
  std::shared_ptr<autograd::Node> grad_fn;
  uint32_t output_nr = 0;
  std::weak_ptr<autograd::Node> grad_accumulator;  // leaves: cached AccumulateGrad node
  // Note [Tensor hooks] (autograd/node.h): a leaf's hooks live here; a non-leaf's on its grad_fn.
  std::vector<std::pair<int64_t, GradHook>> hooks;
  std::shared_ptr<Tensor> retained_grad;  // a non-leaf's .grad once retain_grad() was called
};

class TensorImpl : public RefCounted {
 public:
  TensorImpl(Storage storage, DType dtype, IntArrayRef sizes, IntArrayRef strides, int64_t offset)
      : storage_(std::move(storage)), sizes_(sizes), strides_(strides), offset_(offset), dtype_(dtype) {
    refresh();
  }

  const Storage& storage() const { return storage_; }
  IntArrayRef sizes() const { return sizes_; }
  IntArrayRef strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int64_t dim() const { return int64_t(sizes_.size()); }
  int64_t numel() const { return numel_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_->device(); }
  bool is_contiguous() const { return contiguous_; }
  void* data_ptr() const { return static_cast<char*>(storage_->data()) + offset_ * itemsize(dtype_); }

  // Views re-point an impl's geometry only while building it (see ops/view.cpp).
  void set_geometry(IntArrayRef sizes, IntArrayRef strides, int64_t offset) {
    sizes_ = DimVector(sizes); strides_ = DimVector(strides); offset_ = offset; refresh();
  }

  // Autograd.
  AutogradMeta* autograd_meta() const { return meta_.get(); }
  AutogradMeta& ensure_autograd_meta() { if (!meta_) meta_ = std::make_unique<AutogradMeta>(); return *meta_; }
  bool requires_grad() const { return meta_ && (meta_->requires_grad || meta_->grad_fn); }
  bool is_leaf() const { return !meta_ || !meta_->grad_fn; }
  const std::shared_ptr<autograd::Node>& grad_fn() const;

  uint64_t version() const { return storage_->version(); }
  void bump_version() { storage_->bump_version(); }

  // A 0-d tensor made from a Python number: it does not decide the result dtype's category
  // alone (see promote in ops/type_promotion.h).
  bool is_wrapped_number = false;

 private:
  void refresh();  // checks the geometry against the storage (Note [Shape overflow] in core/shape.h)
  Storage storage_;
  DimVector sizes_, strides_;
  int64_t offset_ = 0;
  int64_t numel_ = 1;
  DType dtype_;
  bool contiguous_ = true;
  std::unique_ptr<AutogradMeta> meta_;
};

inline IntArrayRef Tensor::sizes() const { return impl_->sizes(); }
inline IntArrayRef Tensor::strides() const { return impl_->strides(); }
inline int64_t Tensor::dim() const { return impl_->dim(); }
inline int64_t Tensor::numel() const { return impl_->numel(); }
inline DType Tensor::dtype() const { return impl_->dtype(); }
inline Device Tensor::device() const { return impl_->device(); }
inline bool Tensor::is_contiguous() const { return impl_->is_contiguous(); }
inline bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad(); }
inline void* Tensor::data_ptr() const { return impl_->data_ptr(); }

// Bytes of a contiguous tensor of `sizes`; RuntimeError when they don't fit in int64.
int64_t contiguous_nbytes(IntArrayRef sizes, DType dtype);
// Fresh contiguous tensors (uninitialized memory) and views over existing storage.
Tensor empty_tensor(const DimVector& sizes, DType dtype, Device device);
Tensor make_view(const Tensor& base, IntArrayRef sizes, IntArrayRef strides, int64_t offset);

}  // namespace vt
