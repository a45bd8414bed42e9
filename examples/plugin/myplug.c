/* An example operator plugin for vibetensor, written in C against vt_plugin.h alone (Note [Plugin ops]
 * in csrc/plugin/loader.h). Build: python examples/plugin/build.py OUT_DIR (or see build.py for the
 * compiler line); load: vt.ops.load_library(".../libmyplug.so"); call: vt.ops.myplug.scale(x, 2.0).
 *
 * Ops (float32 and float64, any strides; results are allocated contiguous by the host):
 *   myplug::scale(Tensor x, float alpha=1.0) -> Tensor            alpha * x, with a backward op
 *   myplug::scale_backward(Tensor grad, Tensor x, float alpha) -> Tensor
 *   myplug::add(Tensor a, Tensor b) -> Tensor                     a + b of one shape (the host-cost benchmark's op)
 *   myplug::sum_rows(Tensor x) -> Tensor                          a 2-d x summed over its columns (an infer function)
 *   myplug::split_sign(Tensor x) -> (Tensor, Tensor)              (max(x, 0), min(x, 0))
 *   myplug::fail(Tensor x) -> Tensor                              always VT_STATUS_INVALID_ARGUMENT, with a message
 * Built with -DMYPLUG_CUDA and myplug_cuda.cu, scale and add have CUDA kernels too. */
#include <stdio.h>
#include <string.h>

#include "vt_plugin.h"

#ifdef MYPLUG_CUDA
vt_status myplug_scale_cuda(const vt_call* call);
vt_status myplug_add_cuda(const vt_call* call);
#endif

static vt_status failure(const vt_call* c, vt_status status, const char* message) {
  snprintf(c->error, c->error_size, "%s", message);
  return status;
}

static int64_t numel(const DLTensor* t) {
  int64_t n = 1;
  for (int d = 0; d < t->ndim; ++d) n *= t->shape[d];
  return n;
}

/* The element offset of row-major index i in a strided tensor. */
static int64_t offset_of(const DLTensor* t, int64_t i) {
  int64_t off = 0;
  for (int d = t->ndim - 1; d >= 0; --d) {
    off += (i % t->shape[d]) * t->strides[d];
    i /= t->shape[d];
  }
  return off;
}

static int is_float(const DLTensor* t, int bits) { return t->dtype.code == kDLFloat && t->dtype.bits == bits; }

static int same_shape(const DLTensor* a, const DLTensor* b) {
  if (a->ndim != b->ndim) return 0;
  for (int d = 0; d < a->ndim; ++d)
    if (a->shape[d] != b->shape[d]) return 0;
  return 1;
}

/* out[i] = alpha * x[i], computed in the tensor's dtype as vibetensor's and torch's x * alpha. */
static vt_status scale_into(const vt_call* c, const DLTensor* x, double alpha, DLTensor* out) {
  const int64_t n = numel(x);
  if (is_float(x, 32)) {
    const float* xp = (const float*)x->data;
    float* op = (float*)out->data;
    for (int64_t i = 0; i < n; ++i) op[i] = (float)alpha * xp[offset_of(x, i)];
  } else if (is_float(x, 64)) {
    const double* xp = (const double*)x->data;
    double* op = (double*)out->data;
    for (int64_t i = 0; i < n; ++i) op[i] = alpha * xp[offset_of(x, i)];
  } else {
    return failure(c, VT_STATUS_UNSUPPORTED, "myplug: expected a float32 or float64 tensor");
  }
  return VT_STATUS_OK;
}

static vt_status scale_cpu(const vt_call* c) { return scale_into(c, &c->tensors[0], c->scalars[0], &c->outputs[0]); }

/* d(alpha * x)/dx = alpha: the gradient is alpha * grad (x is unused). */
static vt_status scale_backward_cpu(const vt_call* c) {
  return scale_into(c, &c->tensors[0], c->scalars[0], &c->outputs[0]);
}

static vt_status add_cpu(const vt_call* c) {
  const DLTensor *a = &c->tensors[0], *b = &c->tensors[1];
  if (!same_shape(a, b) || a->dtype.code != b->dtype.code || a->dtype.bits != b->dtype.bits)
    return failure(c, VT_STATUS_INVALID_ARGUMENT, "myplug::add: expected two tensors of one shape and dtype");
  const int64_t n = numel(a);
  if (is_float(a, 32)) {
    float* op = (float*)c->outputs[0].data;
    for (int64_t i = 0; i < n; ++i)
      op[i] = ((const float*)a->data)[offset_of(a, i)] + ((const float*)b->data)[offset_of(b, i)];
  } else if (is_float(a, 64)) {
    double* op = (double*)c->outputs[0].data;
    for (int64_t i = 0; i < n; ++i)
      op[i] = ((const double*)a->data)[offset_of(a, i)] + ((const double*)b->data)[offset_of(b, i)];
  } else {
    return failure(c, VT_STATUS_UNSUPPORTED, "myplug::add: expected float32 or float64 tensors");
  }
  return VT_STATUS_OK;
}

static vt_status sum_rows_infer(const vt_call* c, vt_output_spec* out) {
  const DLTensor* x = &c->tensors[0];
  if (x->ndim != 2) return failure(c, VT_STATUS_INVALID_ARGUMENT, "myplug::sum_rows: expected a 2-d tensor");
  out[0].ndim = 1;
  out[0].shape[0] = x->shape[0];
  out[0].dtype = x->dtype;
  return VT_STATUS_OK;
}

static vt_status sum_rows_cpu(const vt_call* c) {
  const DLTensor* x = &c->tensors[0];
  for (int64_t r = 0; r < x->shape[0]; ++r) {
    double acc = 0;
    for (int64_t k = 0; k < x->shape[1]; ++k) {
      int64_t off = r * x->strides[0] + k * x->strides[1];
      acc += is_float(x, 32) ? ((const float*)x->data)[off] : ((const double*)x->data)[off];
    }
    if (is_float(x, 32)) ((float*)c->outputs[0].data)[r] = (float)acc;
    else ((double*)c->outputs[0].data)[r] = acc;
  }
  return VT_STATUS_OK;
}

static vt_status split_sign_cpu(const vt_call* c) {
  const DLTensor* x = &c->tensors[0];
  if (!is_float(x, 32)) return failure(c, VT_STATUS_UNSUPPORTED, "myplug::split_sign: expected float32");
  const int64_t n = numel(x);
  float *pos = (float*)c->outputs[0].data, *neg = (float*)c->outputs[1].data;
  for (int64_t i = 0; i < n; ++i) {
    float v = ((const float*)x->data)[offset_of(x, i)];
    pos[i] = v > 0 ? v : 0.0f;
    neg[i] = v < 0 ? v : 0.0f;
  }
  return VT_STATUS_OK;
}

static vt_status fail_cpu(const vt_call* c) {
  return failure(c, VT_STATUS_INVALID_ARGUMENT, "myplug::fail always fails (a kernel's error reaches Python)");
}

VT_PLUGIN_EXPORT uint32_t vt_plugin_abi_version(void) { return VT_PLUGIN_ABI_VERSION; }

VT_PLUGIN_EXPORT vt_status vt_plugin_init(const vt_host* host) {
  vt_kernel_fn scale_gpu = NULL, add_gpu = NULL;
#ifdef MYPLUG_CUDA
  scale_gpu = myplug_scale_cuda;
  add_gpu = myplug_add_cuda;
#endif
  const vt_op_def ops[] = {
      {sizeof(vt_op_def), "myplug::scale(Tensor x, float alpha=1.0) -> Tensor", scale_cpu, scale_gpu, NULL,
       "myplug::scale_backward"},
      {sizeof(vt_op_def), "myplug::scale_backward(Tensor grad, Tensor x, float alpha) -> Tensor", scale_backward_cpu,
       scale_gpu, NULL, NULL},
      {sizeof(vt_op_def), "myplug::add(Tensor a, Tensor b) -> Tensor", add_cpu, add_gpu, NULL, NULL},
      {sizeof(vt_op_def), "myplug::sum_rows(Tensor x) -> Tensor", sum_rows_cpu, NULL, sum_rows_infer, NULL},
      {sizeof(vt_op_def), "myplug::split_sign(Tensor x) -> (Tensor, Tensor)", split_sign_cpu, NULL, NULL, NULL},
      {sizeof(vt_op_def), "myplug::fail(Tensor x) -> Tensor", fail_cpu, NULL, NULL, NULL},
  };
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); ++i) {
    vt_status s = host->register_op(host->context, &ops[i]);
    if (s != VT_STATUS_OK) return s;
  }
  return VT_STATUS_OK;
}
