// CUDA kernels of the multi-tensor Adam/AdamW and SGD steps (Note [Multi-tensor optimizer step]).
#include "cuda/device.h"
#include "cuda/stream.h"
#include "ops/cuda/device_types.cuh"
#include "ops/cuda/chunk_table_upload.h"
#include "ops/cuda/multi_tensor_apply.cuh"
#include "ops/optim/multi_tensor.h"
#include "ops/suite/families.h"
#include "ops/suite/launch.h"

namespace vt::cuda_kernels {
namespace {

// t: params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs (null without amsgrad).
template <class D>
struct AdamOp {
  optim::AdamStep s;
  __device__ const AdamOp& for_block(D* const*) const { return *this; }
  __device__ void operator()(D* const* t, int64_t i) const {
    using A = dev_opmath_t<D>;
    A p = to_opmath(t[0][i]), m = to_opmath(t[2][i]), v = to_opmath(t[3][i]);
    A v_max = s.amsgrad ? to_opmath(t[4][i]) : A(0);
    optim::adam_update<A>(p, to_opmath(t[1][i]), m, v, v_max, s);
    t[0][i] = from_opmath<D>(p), t[2][i] = from_opmath<D>(m), t[3][i] = from_opmath<D>(v);
    if (s.amsgrad) t[4][i] = from_opmath<D>(v_max);
  }
};

// t: params, grads, momentum_buffers (null without momentum).
template <class D>
struct SgdOp {
  optim::SgdStep s;
  __device__ const SgdOp& for_block(D* const*) const { return *this; }
  __device__ void operator()(D* const* t, int64_t i) const {
    using A = dev_opmath_t<D>;
    A p = to_opmath(t[0][i]), buf = s.momentum != 0 && !s.first_step ? to_opmath(t[2][i]) : A(0);
    optim::sgd_update<A>(p, to_opmath(t[1][i]), buf, s);
    t[0][i] = from_opmath<D>(p);
    if (s.momentum != 0) t[2][i] = from_opmath<D>(buf);
  }
};

// Note [Capturable multi-tensor Adam]: t[5] is the tensor's float32 step count (the list's slot holds
// a float*, whatever D is); each thread reads it at the start of its block and updates with its bias
// corrections.
template <class D>
struct AdamAtDeviceStepOp {
  optim::AdamStep s;
  __device__ AdamOp<D> for_block(D* const* t) const {
    return {optim::adam_step_at(s, double(*reinterpret_cast<const float*>(t[5])))};
  }
};

struct StepCountIncrementOp {
  __device__ const StepCountIncrementOp& for_block(float* const*) const { return *this; }
  __device__ void operator()(float* const* t, int64_t i) const { t[0][i] += 1.0f; }
};

// The current stream of the parameters' device, that device current while launching.
template <class Launch>
void on_current_stream(const TensorList& params, const char* op, Launch launch) {
  const int dev = params[0].device().index;
  cuda::DeviceGuard guard(dev);
  cudaStream_t stream = cuda::current_stream(dev).handle();
  VT_DISPATCH_FLOATING(params[0].dtype(), op, [&]<class T>() { launch.template operator()<dev_t<T>>(stream); });
}

void fused_adamw_cuda(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                      const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, double lr, double beta1,
                      double beta2, double weight_decay, double eps, double step, bool decoupled_weight_decay,
                      bool maximize) {
  optim::fused_adamw_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, lr, beta1, beta2, weight_decay, eps,
                          step, decoupled_weight_decay, maximize, [&](const optim::AdamStep& s) {
    if (suite_multi_tensor({&params, &grads, &exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs},
                   [&](const Tensor& table, const suite::ChunkTable& t) { return suite::adam_multi(table, t, params[0], s); }))
      return;
    on_current_stream(params, "_fused_adamw_", [&]<class D>(cudaStream_t stream) {
      multi_tensor_apply<D, 5>({&params, &grads, &exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs}, AdamOp<D>{s}, stream);
    });
  });
}

void fused_adamw_capturable_cuda(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                                 const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs,
                                 const TensorList& steps, double lr, double beta1, double beta2, double weight_decay,
                                 double eps, bool decoupled_weight_decay, bool maximize) {
  optim::fused_adamw_capturable_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, beta1, beta2,
                                     weight_decay, eps, decoupled_weight_decay, maximize,
                                     [&](const optim::AdamStep& s) {
    on_current_stream(params, "_fused_adamw_capturable_", [&]<class D>(cudaStream_t stream) {
      multi_tensor_apply<float, 1>({&steps}, StepCountIncrementOp{}, stream);
      multi_tensor_apply<D, 6>({&params, &grads, &exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs, &steps},
                               AdamAtDeviceStepOp<D>{s}, stream);
    });
  });
}

void fused_sgd_cuda(const TensorList& params, const TensorList& grads, const TensorList& momentum_buffers, double lr,
                    double momentum, double dampening, double weight_decay, bool nesterov, bool maximize,
                    bool is_first_step) {
  optim::fused_sgd_step(params, grads, momentum_buffers, lr, momentum, dampening, weight_decay, nesterov, maximize,
                        is_first_step, [&](const optim::SgdStep& s) {
    if (suite_multi_tensor({&params, &grads, &momentum_buffers},
                   [&](const Tensor& table, const suite::ChunkTable& t) { return suite::sgd_multi(table, t, params[0], s); }))
      return;
    on_current_stream(params, "_fused_sgd_", [&]<class D>(cudaStream_t stream) {
      multi_tensor_apply<D, 3>({&params, &grads, &momentum_buffers}, SgdOp<D>{s}, stream);
    });
  });
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_adamw_", CUDA, fused_adamw_cuda);
VT_REGISTER_KERNEL("vt::_fused_sgd_", CUDA, fused_sgd_cuda);
VT_REGISTER_KERNEL("vt::_fused_adamw_capturable_", CUDA, fused_adamw_capturable_cuda);

}  // namespace vt::cuda_kernels
