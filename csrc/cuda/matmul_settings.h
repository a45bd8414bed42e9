#pragma once
// Process-wide switches of the CUDA matmul kernels (vibetensor.backends.cuda.matmul).
namespace vt::cuda {

// Note [TF32 matmul]
// TF32 tensor cores multiply float32 inputs rounded to a 10-bit mantissa (float32 accumulation):
// several times faster on Ampere and later, but not float32 accuracy. Off by default, as in
// PyTorch since 1.12; vibetensor.backends.cuda.matmul.allow_tf32 = True turns it on for later
// float32 products (CUBLAS_COMPUTE_32F_FAST_TF32). An atomic: read on every matmul, from any
// thread, without a lock.
bool allow_tf32_matmul();
void set_allow_tf32_matmul(bool on);

}  // namespace vt::cuda
