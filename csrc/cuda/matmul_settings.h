#pragma once
// Process-wide switches of the CUDA matmul kernels (vibetensor.backends.cuda.matmul).
namespace vt::cuda {

// Note [TF32 matmul]
// TF32 tensor cores multiply float32 inputs rounded to a 10-bit mantissa (float32 accumulation):
// several times faster on Ampere and later, but not float32 accuracy. Off by default, as in
// PyTorch since 1.12; vibetensor.backends.cuda.matmul.allow_tf32 = True turns it on for later
// float32 products (CUBLAS_COMPUTE_32F_FAST_TF32). An atomic: read on every matmul, from any
// thread, without a lock.
// A thread may override it for a scope: the composed convolution's GEMMs follow
// vibetensor.backends.cudnn.allow_tf32 instead (on by default, as torch's cuDNN convolutions use TF32),
// so they set the override around their products (nn/_conv.py). Thread-local, so another thread's
// matmuls keep the process-wide setting.
bool allow_tf32_matmul();
void set_allow_tf32_matmul(bool on);
// -1: no override (the process-wide setting), 0 / 1: off / on for this thread; returns the previous value.
int exchange_tf32_override(int value);

}  // namespace vt::cuda
