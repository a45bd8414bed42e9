// CUDA kernels: copy_ (device<->device, host<->device) with dtype conversion and broadcasting,
// to_dtype, clone, to_device; and the cross-device copies the CPU kernels call
// (Note [Cross-device copies] in ops/device_transfer.h). See Note [CUDA copies].
#include <cstring>

#include "alloc/pinned.h"
#include "ops/cuda/elementwise.cuh"
#include "ops/device_transfer.h"
#include "ops/suite/families.h"

namespace vt::cuda_kernels {
namespace {

// Note [CUDA copies]
// All copies are issued on the current stream of the device involved (the destination's for
// device-to-device and host-to-device, the source's for device-to-host).
// - Conversions (dtype, strides, broadcast) happen on the device, by the elementwise kernel; the
//   bytes that cross the PCIe bus are always one contiguous block in one dtype.
// - Host to device, non_blocking=False: cudaMemcpyAsync then a stream sync ("copy_h2d").
//   non_blocking=True: from pinned memory the DMA runs while the host continues; pageable memory
//   is first copied into a pinned staging block (alloc/pinned.h), which is reused only after the
//   copy's event completes, so the host does not wait either.
// - Device to host, non_blocking=False or a pageable destination: a stream sync ("copy_d2h").
//   non_blocking=True into pinned memory (to("cpu", non_blocking=True) allocates its result
//   there): no wait; the caller synchronizes before reading, as in PyTorch.
// - Between devices: the destination's stream waits for the source's current stream, the bytes
//   move with cudaMemcpyPeerAsync, and the source's stream then waits for the copy so memory
//   freed there is not reused before the copy has read it.

template <class D, class S> struct Convert {
  __device__ D operator()(S v) const { return convert<D>(v); }
};

// dst <- convert(src), both on dst's device, src broadcast to dst.
void convert_on_device(const Tensor& dst, const Tensor& src) {
  if (suite::copy(dst, src)) return;  // Note [Suite scope]
  VT_DISPATCH_ALL(dst.dtype(), "copy_", [&]<class DT>() {
    VT_DISPATCH_ALL(src.dtype(), "copy_", [&]<class ST>() {
      gpu_kernel<dev_t<DT>, dev_t<ST>>(dst, {Operand::of(src)}, Convert<dev_t<DT>, dev_t<ST>>{});
    });
  });
}

size_t nbytes_of(const Tensor& t) { return size_t(t.numel() * itemsize(t.dtype())); }

bool same_shape(const Tensor& a, const Tensor& b) { return DimVector(a.sizes()) == DimVector(b.sizes()); }

// A plain byte copy is enough: same dtype and shape, both contiguous.
bool bytewise(const Tensor& dst, const Tensor& src) {
  return dst.dtype() == src.dtype() && same_shape(dst, src) && dst.is_contiguous() && src.is_contiguous();
}

void check_copy_shapes(const Tensor& self, const Tensor& src) {
  DimVector shape = broadcast_shapes(self.sizes(), src.sizes(), "copy_");
  VT_CHECK_VALUE(shape == DimVector(self.sizes()), "copy_: source of shape ", shape_str(src.sizes()),
                 " cannot be broadcast to destination shape ", shape_str(self.sizes()));
}

Tensor empty_like_shape(const Tensor& shape_of, DType dt, Device dev) {
  return empty_tensor(DimVector(shape_of.sizes()), dt, dev);
}

void copy_device_to_device(const Tensor& dst, const Tensor& src_in) {
  Tensor src = src_in;
  if (dst.device() == src.device()) {
    int dev = dst.device().index;
    cuda::DeviceGuard g(dev);
    bool identical = dst.data_ptr() == src.data_ptr() && dst.dtype() == src.dtype() && same_shape(dst, src) &&
                     DimVector(dst.strides()) == DimVector(src.strides());
    if (identical) return;
    // Overlapping source and destination: read from a copy (as the CPU kernel does).
    if (dst->storage().get() == src->storage().get()) src = ops::clone(src);
    if (bytewise(dst, src)) {
      if (dst.numel())
        VT_CUDA_CHECK(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), nbytes_of(dst), cudaMemcpyDeviceToDevice,
                                      cuda::current_stream(dev).handle()));
      return;
    }
    convert_on_device(dst, src);
    return;
  }
  // Across devices: one contiguous block of dst's dtype in src's shape crosses.
  int sdev = src.device().index, ddev = dst.device().index;
  Tensor block = src;
  if (src.dtype() != dst.dtype() || !src.is_contiguous()) {
    block = empty_like_shape(src, dst.dtype(), src.device());
    convert_on_device(block, src);
  }
  bool direct = dst.is_contiguous() && same_shape(dst, src);
  Tensor landing = direct ? dst : empty_like_shape(src, dst.dtype(), dst.device());
  cuda::Stream ss = cuda::current_stream(sdev), ds = cuda::current_stream(ddev);
  ds.wait_stream(ss);
  if (block.numel()) {
    cuda::DeviceGuard g(ddev);
    VT_CUDA_CHECK(cudaMemcpyPeerAsync(landing.data_ptr(), ddev, block.data_ptr(), sdev, nbytes_of(block), ds.handle()));
  }
  ss.wait_stream(ds);
  if (!direct) convert_on_device(dst, landing);
}

void copy_host_to_device(const Tensor& dst, const Tensor& src, bool non_blocking) {
  int dev = dst.device().index;
  cuda::DeviceGuard g(dev);
  cuda::Stream s = cuda::current_stream(dev);
  Tensor host = src.is_contiguous() ? src : ops::clone(src);  // CPU clone: contiguous, src's dtype
  bool direct = bytewise(dst, host);
  Tensor landing = direct ? dst : empty_like_shape(host, host.dtype(), dst.device());
  size_t n = nbytes_of(host);
  if (n) {
    const void* hp = host.data_ptr();
    if (!non_blocking) {
      cuda::check_not_capturing("copy_h2d");  // Note [CUDA graph capture]
      VT_CUDA_CHECK(cudaMemcpyAsync(landing.data_ptr(), hp, n, cudaMemcpyHostToDevice, s.handle()));
      s.synchronize("copy_h2d");
    } else if (alloc::is_pinned(hp)) {
      VT_CUDA_CHECK(cudaMemcpyAsync(landing.data_ptr(), hp, n, cudaMemcpyHostToDevice, s.handle()));
      alloc::pinned_record_stream(hp, s);
    } else {
      void* stage = alloc::pinned_allocate(n);
      std::memcpy(stage, hp, n);
      cudaError_t err = cudaMemcpyAsync(landing.data_ptr(), stage, n, cudaMemcpyHostToDevice, s.handle());
      if (err == cudaSuccess) alloc::pinned_record_stream(stage, s);
      alloc::pinned_free(stage);
      VT_CUDA_CHECK(err);
    }
  }
  if (!direct) convert_on_device(dst, landing);
}

void copy_device_to_host(const Tensor& dst, const Tensor& src, bool non_blocking) {
  int dev = src.device().index;
  cuda::DeviceGuard g(dev);
  cuda::Stream s = cuda::current_stream(dev);
  Tensor block = src;
  if (src.dtype() != dst.dtype() || !src.is_contiguous()) {
    block = empty_like_shape(src, dst.dtype(), src.device());
    convert_on_device(block, src);
  }
  bool direct = dst.is_contiguous() && same_shape(dst, src);
  Tensor landing = direct ? dst : empty_like_shape(src, dst.dtype(), Device{});
  size_t n = nbytes_of(block);
  if (n) {
    void* hp = landing.data_ptr();
    bool async = non_blocking && direct && alloc::is_pinned(hp);
    if (!async) cuda::check_not_capturing("copy_d2h");  // Note [CUDA graph capture]
    VT_CUDA_CHECK(cudaMemcpyAsync(hp, block.data_ptr(), n, cudaMemcpyDeviceToHost, s.handle()));
    if (async) {
      alloc::pinned_record_stream(hp, s);
    } else {
      s.synchronize("copy_d2h");
    }
  }
  if (!direct) {
    NoGradGuard ng;
    ops::copy_(dst, landing, false);  // CPU strided/broadcast copy
  }
}

// ---- kernels and hooks -------------------------------------------------------------------

Tensor copy__cuda(const Tensor& self, const Tensor& src, bool non_blocking) {
  check_copy_shapes(self, src);
  // self may be a 0-d CPU tensor (a CPU scalar does not decide the device: KeyScan).
  if (self.device().is_cpu()) copy_device_to_host(self, src, non_blocking);
  else if (src.device().is_cpu()) copy_host_to_device(self, src, non_blocking);
  else copy_device_to_device(self, src);
  self->bump_version();
  return self;
}

Tensor to_dtype_cuda(const Tensor& self, DType dtype) {
  if (self.dtype() == dtype) return self;
  Tensor out = empty_like_shape(self, dtype, self.device());
  convert_on_device(out, self);
  return out;
}

Tensor clone_cuda(const Tensor& self) {
  Tensor out = empty_like_shape(self, self.dtype(), self.device());
  copy_device_to_device(out, self);
  return out;
}

Tensor to_device_from_cuda(const Tensor& self, Device d, bool non_blocking) {
  if (d == self.device()) return self;
  if (d.is_cpu()) {
    DimVector sizes(self.sizes());
    Tensor out;
    if (non_blocking) {
      // A pinned result lets the copy run without the host waiting (Note [CUDA copies]).
      Storage st = alloc::pinned_storage(size_t(contiguous_nbytes(sizes, self.dtype())));
      out = Tensor(IntrusivePtr<TensorImpl>::make(std::move(st), self.dtype(), sizes, contiguous_strides(sizes), 0));
    } else {
      out = empty_tensor(sizes, self.dtype(), d);
    }
    copy_device_to_host(out, self, non_blocking);
    return out;
  }
  Tensor out = empty_like_shape(self, self.dtype(), d);
  copy_device_to_device(out, self);
  return out;
}

Tensor to_device_cuda(const Tensor& self, std::optional<Device> device, bool non_blocking) {
  return to_device_from_cuda(self, device ? *device : Device{}, non_blocking);
}

// Called by the CPU kernels (Note [Cross-device copies]).
void hook_copy(const Tensor& dst, const Tensor& src, bool non_blocking) {
  check_copy_shapes(dst, src);
  VT_CHECK(dst.device().is_cpu() && src.device().is_cuda(), "copy_: unexpected devices ", dst.device(), " <- ",
           src.device());
  copy_device_to_host(dst, src, non_blocking);
}

Tensor hook_to_device(const Tensor& src, Device d, bool non_blocking) {
  cuda::check_device(d);  // "no CUDA GPU is available" without a GPU
  if (src.device().is_cuda()) return to_device_from_cuda(src, d, non_blocking);
  Tensor out = empty_like_shape(src, src.dtype(), d);
  copy_host_to_device(out, src, non_blocking);
  return out;
}

struct InstallTransfer {
  InstallTransfer() { set_device_transfer(DeviceType::CUDA, DeviceTransfer{&hook_copy, &hook_to_device}); }
} g_install_transfer;

}  // namespace

VT_REGISTER_KERNEL("vt::copy_", CUDA, copy__cuda);
VT_REGISTER_KERNEL("vt::to_dtype", CUDA, to_dtype_cuda);
VT_REGISTER_KERNEL("vt::clone", CUDA, clone_cuda);
VT_REGISTER_KERNEL("vt::to_device", CUDA, to_device_cuda);

}  // namespace vt::cuda_kernels
