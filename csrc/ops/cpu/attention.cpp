// The fused attention ops have CUDA kernels only (ops/cuda/attention_suite.cpp): their CPU
// kernels say so. scaled_dot_product_attention never routes CPU tensors to them.
#include "dispatch/dispatcher.h"
#include "ops/ops.h"

namespace vt::cpu {
namespace {

[[noreturn]] void cuda_only(const char* op) {
  detail::throw_error(ErrorKind::NotImplemented, op, ": runs on CUDA tensors only (the kernel suite's fused attention); "
                      "on the CPU use scaled_dot_product_attention, which runs its math path there");
}

std::tuple<Tensor, Tensor> fused_attention_cpu(const Tensor&, const Tensor&, const Tensor&, bool, double) {
  cuda_only("_fused_attention");
}

std::tuple<Tensor, Tensor, Tensor> fused_attention_backward_cpu(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                                                const Tensor&, const Tensor&, bool, double) {
  cuda_only("_fused_attention_backward");
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_attention", CPU, fused_attention_cpu);
VT_REGISTER_KERNEL("vt::_fused_attention_backward", CPU, fused_attention_backward_cpu);

}  // namespace vt::cpu
