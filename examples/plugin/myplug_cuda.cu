// The CUDA kernels of the example plugin (myplug.c, built with -DMYPLUG_CUDA): contiguous float32 only,
// launched on the stream the host passes.
#include <cstdio>

#include "vt_plugin.h"

namespace {

__global__ void scale_kernel(const float* x, float alpha, float* y, int64_t n) {
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = alpha * x[i];
}

__global__ void add_kernel(const float* a, const float* b, float* y, int64_t n) {
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a[i] + b[i];
}

bool contiguous_f32(const DLTensor* t) {
  if (t->dtype.code != kDLFloat || t->dtype.bits != 32) return false;
  int64_t expected = 1;
  for (int d = t->ndim - 1; d >= 0; --d) {
    if (t->shape[d] != 1 && t->strides[d] != expected) return false;
    expected *= t->shape[d];
  }
  return true;
}

int64_t numel(const DLTensor* t) {
  int64_t n = 1;
  for (int d = 0; d < t->ndim; ++d) n *= t->shape[d];
  return n;
}

vt_status unsupported(const vt_call* c) {
  snprintf(c->error, c->error_size, "myplug (CUDA): expected contiguous float32 tensors");
  return VT_STATUS_UNSUPPORTED;
}

vt_status launched(const vt_call* c) {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return VT_STATUS_OK;
  snprintf(c->error, c->error_size, "myplug (CUDA): %s", cudaGetErrorString(e));
  return VT_STATUS_INTERNAL;
}

}  // namespace

extern "C" vt_status myplug_scale_cuda(const vt_call* c) {
  const DLTensor* x = &c->tensors[0];
  if (!contiguous_f32(x)) return unsupported(c);
  const int64_t n = numel(x);
  if (n) scale_kernel<<<(n + 255) / 256, 256, 0, (cudaStream_t)c->stream>>>((const float*)x->data, (float)c->scalars[0],
                                                                             (float*)c->outputs[0].data, n);
  return launched(c);
}

extern "C" vt_status myplug_add_cuda(const vt_call* c) {
  const DLTensor *a = &c->tensors[0], *b = &c->tensors[1];
  if (!contiguous_f32(a) || !contiguous_f32(b) || numel(a) != numel(b)) return unsupported(c);
  const int64_t n = numel(a);
  if (n) add_kernel<<<(n + 255) / 256, 256, 0, (cudaStream_t)c->stream>>>((const float*)a->data, (const float*)b->data,
                                                                           (float*)c->outputs[0].data, n);
  return launched(c);
}
