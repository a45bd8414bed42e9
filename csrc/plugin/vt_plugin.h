/* vt_plugin.h: vibetensor's C ABI for operator plugins.
 *
 * A plugin is a shared library that exports two functions:
 *
 *   VT_PLUGIN_EXPORT uint32_t vt_plugin_abi_version(void) { return VT_PLUGIN_ABI_VERSION; }
 *   VT_PLUGIN_EXPORT vt_status vt_plugin_init(const vt_host* host);
 *
 * vibetensor.ops.load_library(path) opens the library, checks the version (the major must equal the host's,
 * the minor must not exceed it), then calls vt_plugin_init, which registers its ops with host->register_op
 * and returns VT_STATUS_OK. Registration is all-or-nothing: a non-OK return (with a message through
 * host->set_error), an op the host refuses, or anything thrown out of the plugin leaves no op behind.
 * Loaded ops are dispatcher ops like the built-in ones: vt.ops.<namespace>.<name>(...) from Python,
 * Dispatcher::call_boxed from C++.
 *
 * Tensors cross the boundary as DLPack DLTensors (borrowed for the duration of the call); the current
 * CUDA stream is passed to CUDA kernels. Plugins must not let C++ exceptions escape: return a status.
 * Compatibility rules: fields are only ever appended to the structs below, each of which starts with
 * its size as the writer knew it, so a host reads a plugin's older, shorter structs and a plugin
 * checks host->size before using a field added after its own minor version.
 */
#ifndef VT_PLUGIN_H_
#define VT_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VT_PLUGIN_ABI_MAJOR 1
#define VT_PLUGIN_ABI_MINOR 0
#define VT_PLUGIN_ABI_VERSION ((uint32_t)(VT_PLUGIN_ABI_MAJOR << 16 | VT_PLUGIN_ABI_MINOR))

#if defined(_WIN32)
#define VT_PLUGIN_EXPORT __declspec(dllexport)
#else
#define VT_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* DLPack's tensor description (dlpack.h v0.8 and later lay it out the same way). Include dlpack.h
 * before this header to use its definitions instead. */
#ifndef DLPACK_VERSION
typedef enum { kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3 } DLDeviceType;
typedef struct {
  int32_t device_type; /* a DLDeviceType */
  int32_t device_id;
} DLDevice;
typedef enum { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4, kDLBool = 6 } DLDataTypeCode;
typedef struct {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
} DLDataType;
typedef struct {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides; /* in elements; never NULL from the host */
  uint64_t byte_offset;
} DLTensor;
#endif

typedef enum {
  VT_STATUS_OK = 0,
  VT_STATUS_INVALID_ARGUMENT = 1, /* raised in Python as ValueError */
  VT_STATUS_UNSUPPORTED = 2,      /* NotImplementedError */
  VT_STATUS_INTERNAL = 3          /* RuntimeError */
} vt_status;

#define VT_PLUGIN_MAX_DIMS 8

/* One call of a plugin kernel (or of an op's infer function, with outputs NULL). */
typedef struct vt_call {
  uint32_t size;             /* sizeof(vt_call) of the host */
  int32_t n_tensors;         /* the op's Tensor arguments, in schema order */
  const DLTensor* tensors;
  int32_t n_scalars;         /* its int, float and bool arguments, in schema order, as doubles */
  const double* scalars;
  int32_t n_outputs;         /* its Tensor results, allocated by the host as the infer function said */
  DLTensor* outputs;
  void* stream;              /* the cudaStream_t to launch on, for a CUDA kernel; NULL on the CPU */
  char* error;               /* a message for a non-OK status (NUL-terminated, at most error_size bytes) */
  size_t error_size;
} vt_call;

/* What one result looks like: shape and dtype (on the device of the op's first tensor argument). */
typedef struct vt_output_spec {
  int32_t ndim;
  int64_t shape[VT_PLUGIN_MAX_DIMS];
  DLDataType dtype;
} vt_output_spec;

typedef vt_status (*vt_kernel_fn)(const vt_call* call);
typedef vt_status (*vt_infer_fn)(const vt_call* call, vt_output_spec* outputs);

/* One op. The schema is vibetensor's ("myplug::scale(Tensor x, float alpha) -> Tensor"): arguments Tensor,
 * float, int and bool; results one Tensor or a tuple of Tensors; the namespace is the plugin's own. */
typedef struct vt_op_def {
  uint32_t size;         /* sizeof(vt_op_def) of the plugin */
  const char* schema;
  vt_kernel_fn cpu;      /* NULL: no CPU kernel */
  vt_kernel_fn cuda;     /* NULL: no CUDA kernel */
  vt_infer_fn infer;     /* NULL: every result has the shape and dtype of the first Tensor argument */
  /* NULL, or the full name of an op of this plugin computing the gradients: its arguments are one
   * gradient per result, then this op's arguments; its results one gradient per Tensor argument. */
  const char* backward;
} vt_op_def;

/* The host's side, passed to vt_plugin_init. */
typedef struct vt_host {
  uint32_t size;         /* sizeof(vt_host) of the host */
  uint16_t abi_major, abi_minor;
  void* context;         /* the host's, passed back to the functions below */
  vt_status (*register_op)(void* context, const vt_op_def* def);
  void (*set_error)(void* context, const char* message);
} vt_host;

typedef uint32_t (*vt_plugin_abi_version_fn)(void);
typedef vt_status (*vt_plugin_init_fn)(const vt_host* host);

#ifdef __cplusplus
}
#endif

#endif /* VT_PLUGIN_H_ */
