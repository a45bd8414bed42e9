#pragma once
// Inputs of CUDA elementwise ops, with CPU scalars joining per policy scalars.cuda.
// See Note [Scalars on CUDA].
#include <deque>

#include "cuda/capture_state.h"
#include "cuda/sync_ledger.h"
#include "ops/cuda/loops.cuh"
#include "ops/elementwise_util.h"
#include "policy/catalogue.h"

namespace vt::cuda_kernels {

// Note [Scalars on CUDA]
// A CUDA op may take a CPU 0-d tensor: a wrapped Python number (x * 2.0) or a 0-d tensor. Its
// value is read on the host (no GPU involved) and converted to the op's type T as the CPU
// kernels convert (cast_to). Then:
// - scalars.cuda=kernel_arg: the value travels inside the kernel's arguments (Operand::value):
//   no copy, no sync, and the other operands keep the vectorized path.
// - scalars.cuda=device_copy (VibeTensor): a wrapped number is first made a 1-element device
//   tensor by a host-to-device copy the host waits for (sync ledger "scalar_device_copy"), and
//   the kernel reads it from device memory as a broadcast operand. The copy is issued on the
//   current stream and that stream is synchronized, so the new tensor's memory, possibly reused
//   in stream order, is never written while earlier work still reads it.
// Plain 0-d CPU tensors (not wrapped numbers) are always kernel arguments, as in PyTorch.

// A CPU 0-d tensor's value as T, converted as copy_convert does.
template <class T> T host_scalar_as(const Tensor& t) {
  T out{};
  VT_DISPATCH_ALL(t.dtype(), "scalar", [&]<class S>() {
    S v = *static_cast<const S*>(t.data_ptr());
    if constexpr (std::is_same_v<T, bool>) out = bool(opmath_t<S>(v) != opmath_t<S>(0));
    else out = T(opmath_t<T>(opmath_t<S>(v)));
  });
  return out;
}

inline bool is_cpu_scalar(const Tensor& t) { return t.device().is_cpu() && t.dim() == 0; }

// The CUDA device an op runs on: the first operand on a CUDA device.
inline Device op_device(std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    if (t->defined() && t->device().is_cuda()) return t->device();
  VT_ERROR("CUDA kernel called without a CUDA tensor");
}

// Tensors an op's operands point to (a deque: adding one never moves the others).
using KeepAlive = std::deque<Tensor>;

// Prepares input `t` of an op computing in host type T on device `dev`. Device tensors are
// converted to T if needed (kept in `keep`); CPU scalars follow Note [Scalars on CUDA].
template <class T> Operand make_operand(const Tensor& t, Device dev, KeepAlive& keep) {
  constexpr DType dt = CppType<T>::value;
  if (is_cpu_scalar(t)) {
    T v = host_scalar_as<T>(t);
    if (t->is_wrapped_number && policy::scalars_cuda.get() == policy::ScalarsCuda::device_copy) {
      cuda::check_not_capturing("scalar_device_copy");  // Note [CUDA graph capture]
      Tensor d = empty_tensor({}, dt, dev);
      cuda::DeviceGuard g(dev.index);
      cuda::Stream s = cuda::current_stream(dev.index);
      VT_CUDA_CHECK(cudaMemcpyAsync(d.data_ptr(), &v, sizeof(T), cudaMemcpyHostToDevice, s.handle()));
      s.synchronize("scalar_device_copy");
      keep.push_back(d);
      return Operand::of(keep.back());
    }
    return Operand::value(bits_of_host(v));
  }
  VT_CHECK(t.device() == dev, "expected all tensors to be on the same device, but found at least two devices, ", dev,
           " and ", t.device());
  keep.push_back(cast_to(t, dt));
  return Operand::of(keep.back());
}

}  // namespace vt::cuda_kernels
