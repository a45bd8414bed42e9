// CPU kernels: copies with dtype conversion (copy_, to_dtype, clone) and moves to another device
// (to_device); the CUDA twin is ops/cuda/copy.cu.
#include <cstring>

#include "ops/cpu/loops.h"
#include "ops/device_transfer.h"
#include "ops/elementwise_util.h"

namespace vt::cpu {
namespace {

// dst[i] = convert(src[i]) for any pair of dtypes; src broadcasts to dst.
void copy_convert(const Tensor& dst, const Tensor& src) {
  VT_DISPATCH_ALL(dst.dtype(), "copy_", [&]<class D>() {
    VT_DISPATCH_ALL(src.dtype(), "copy_", [&]<class S>() {
      elementwise<D, S>(dst, {&src}, [](S v) {
        if constexpr (std::is_same_v<D, bool>) return bool(opmath_t<S>(v) != opmath_t<S>(0));
        else return D(opmath_t<D>(opmath_t<S>(v)));
      });
    });
  });
}

[[noreturn]] void no_backend(const char* op, Device from, Device to) {
  detail::throw_error(ErrorKind::Runtime, op, ": cannot move a tensor from ", from, " to ", to,
                      ": vibetensor was built without CUDA (this build of vibetensor has no CUDA backend)");
}

Tensor copy__cpu(const Tensor& self, const Tensor& src, bool non_blocking) {
  if (!src.device().is_cpu()) {  // device -> CPU: the device's backend copies (Note [Cross-device copies])
    const DeviceTransfer* t = device_transfer(src.device().type);
    if (!t) no_backend("copy_", src.device(), self.device());
    t->copy(self, src, non_blocking);
    self->bump_version();
    return self;
  }
  DimVector shape = broadcast_shapes(self.sizes(), src.sizes(), "copy_");
  VT_CHECK_VALUE(shape == DimVector(self.sizes()), "copy_: source of shape ", shape_str(src.sizes()),
                 " cannot be broadcast to destination shape ", shape_str(self.sizes()));
  bool identical = self.data_ptr() == src.data_ptr() && self.dtype() == src.dtype() &&
                   DimVector(self.sizes()) == DimVector(src.sizes()) && DimVector(self.strides()) == DimVector(src.strides());
  if (!identical) {
    // Overlapping source and destination: read from a copy so no element is read after it was written.
    if (self->storage().get() == src->storage().get()) copy_convert(self, ops::clone(src));
    else copy_convert(self, src);
  }
  self->bump_version();
  return self;
}

Tensor to_dtype_cpu(const Tensor& self, DType dtype) {
  if (self.dtype() == dtype) return self;
  Tensor out = empty_tensor(self.sizes(), dtype, self.device());
  copy_convert(out, self);
  return out;
}

Tensor clone_cpu(const Tensor& self) {
  Tensor out = empty_tensor(self.sizes(), self.dtype(), self.device());
  if (self.is_contiguous()) std::memcpy(out.data_ptr(), self.data_ptr(), size_t(self.numel() * itemsize(self.dtype())));
  else copy_convert(out, self);
  return out;
}

Tensor to_device_cpu(const Tensor& self, std::optional<Device> device, bool non_blocking) {
  Device d = device.value_or(Device{});
  if (d == self.device()) return self;
  const DeviceTransfer* t = device_transfer(d.type);
  if (!t) no_backend("to", self.device(), d);
  return t->to_device(self, d, non_blocking);
}

}  // namespace

VT_REGISTER_KERNEL("vt::copy_", CPU, copy__cpu);
VT_REGISTER_KERNEL("vt::to_dtype", CPU, to_dtype_cpu);
VT_REGISTER_KERNEL("vt::clone", CPU, clone_cpu);
VT_REGISTER_KERNEL("vt::to_device", CPU, to_device_cpu);

}  // namespace vt::cpu
