#pragma once
// Copies between the CPU and another device. Dispatch picks a kernel by the first tensor's
// device, so a copy into a CPU tensor, or to_device of a CPU tensor, reaches the CPU kernel; the
// backend of the other device (built separately) installs these functions at load and the CPU
// kernels call them. See Note [Cross-device copies].
#include "core/tensor.h"

namespace vt {

// Note [Cross-device copies]
// The core cannot depend on a backend (the CPU-only build has none), so the backend registers
// plain function pointers here from a static initializer. When none is registered, the CPU
// kernels raise "vibetensor was built without CUDA".
struct DeviceTransfer {
  // dst <- src, src broadcast to dst's shape and converted to dst's dtype; one of them on the CPU.
  void (*copy)(const Tensor& dst, const Tensor& src, bool non_blocking) = nullptr;
  // A copy of src on `device` (src's dtype and shape).
  Tensor (*to_device)(const Tensor& src, Device device, bool non_blocking) = nullptr;
};

void set_device_transfer(DeviceType type, const DeviceTransfer& t);
// nullptr when no backend for `type` is compiled in.
const DeviceTransfer* device_transfer(DeviceType type);

}  // namespace vt
