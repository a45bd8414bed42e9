// CUDA kernel of vt::rotary_embedding (Note [Rotary embedding] in ops/rotary.h): the suite's Triton
// kernel (kernels/triton/rotary.py) launched from C++ when the "rotary" family is selected, else (or
// when the launch defers its compile) the math on ops.
// Plain C++ (no device code): compiled into every build, the kernel only where VT_CUDA is on.
#if VT_CUDA
#include "cuda/device.h"
#include "dispatch/dispatcher.h"
#include "ops/rotary.h"
#include "ops/suite/families.h"
#include "ops/suite/launch.h"

namespace vt::cuda_kernels {
namespace {

Tensor rotary_embedding_cuda(const Tensor& self, const Tensor& cos, const Tensor& sin, bool inverse) {
  RotaryArgs a = check_rotary_args("rotary_embedding", self, cos, sin);
  if (suite::selected("rotary")) {
    cuda::DeviceGuard guard(self.device().index);
    // The kernel reads a [B, H, T, D] view through its strides; other ranks are folded into one.
    Tensor x = self.dim() == 4 && self.stride(3) == 1 ? self : ops::reshape(ops::contiguous(self), {-1, 1, a.T, a.D});
    Tensor y = empty_tensor({x.size(0), x.size(1), a.T, a.D}, a.out, self.device());
    if (y.numel() == 0 || suite::rotary_forward(x, ops::contiguous(cos), ops::contiguous(sin), y, inverse))
      return self.dim() == 4 ? y : ops::view(y, IntList(self.sizes().begin(), self.sizes().end()));
  }
  return rotary_math(self, cos, sin, inverse);
}

}  // namespace

VT_REGISTER_KERNEL("vt::rotary_embedding", CUDA, rotary_embedding_cuda);

}  // namespace vt::cuda_kernels
#endif  // VT_CUDA
