// CPU kernels of the multi-tensor Adam/AdamW and SGD steps (Note [Multi-tensor optimizer step]).
#include <array>
#include <cmath>

#include "ops/cpu/loops.h"
#include "ops/optim/clip_grad_norm.h"
#include "ops/optim/multi_tensor.h"

namespace vt::cpu {
namespace {

// op_for(i)(t, j) for every element j of the i-th tensors of the lists (t[k]: list k's i-th tensor),
// tensor after tensor; an OpenMP loop above a size where threads pay off. An empty list (a state
// list switched off) gives null pointers.
template <class T, size_t Depth, class OpFor>
void for_each_element(const std::array<const TensorList*, Depth>& lists, OpFor op_for) {
  for (size_t i = 0; i < lists[0]->size(); ++i) {
    std::array<T*, Depth> t{};
    for (size_t k = 0; k < Depth; ++k)
      if (!lists[k]->empty()) t[k] = (*lists[k])[i].template data<T>();
    const int64_t n = (*lists[0])[i].numel();
    const auto op = op_for(i);
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t j = 0; j < n; ++j) op(t, j);
  }
}

// The Adam update of element j of the tensors t (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs).
template <class T>
auto adam_element(const optim::AdamStep& s) {
  return [s](const std::array<T*, 5>& t, int64_t j) {
    using A = opmath_t<T>;
    A p = A(t[0][j]), m = A(t[2][j]), v = A(t[3][j]), v_max = s.amsgrad ? A(t[4][j]) : A(0);
    optim::adam_update<A>(p, A(t[1][j]), m, v, v_max, s);
    t[0][j] = T(p), t[2][j] = T(m), t[3][j] = T(v);
    if (s.amsgrad) t[4][j] = T(v_max);
  };
}

void fused_adamw_cpu(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                     const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, double lr, double beta1,
                     double beta2, double weight_decay, double eps, double step, bool decoupled_weight_decay,
                     bool maximize) {
  optim::fused_adamw_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, lr, beta1, beta2, weight_decay, eps,
                          step, decoupled_weight_decay, maximize, [&](const optim::AdamStep& s) {
    VT_DISPATCH_FLOATING(params[0].dtype(), "_fused_adamw_", [&]<class T>() {
      for_each_element<T, 5>({&params, &grads, &exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs},
                             [&s](size_t) { return adam_element<T>(s); });
    });
  });
}

// Note [Capturable multi-tensor Adam]: each parameter's count is advanced, then its update uses it.
void fused_adamw_capturable_cpu(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                                const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs,
                                const TensorList& steps, double lr, double beta1, double beta2, double weight_decay,
                                double eps, bool decoupled_weight_decay, bool maximize) {
  optim::fused_adamw_capturable_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, beta1, beta2,
                                     weight_decay, eps, decoupled_weight_decay, maximize,
                                     [&](const optim::AdamStep& s) {
    VT_DISPATCH_FLOATING(params[0].dtype(), "_fused_adamw_capturable_", [&]<class T>() {
      for_each_element<T, 5>({&params, &grads, &exp_avgs, &exp_avg_sqs, &max_exp_avg_sqs}, [&](size_t i) {
        float& count = *steps[i].data<float>();
        count += 1.0f;
        return adam_element<T>(optim::adam_step_at(s, double(count)));
      });
    });
  });
}

void fused_sgd_cpu(const TensorList& params, const TensorList& grads, const TensorList& momentum_buffers, double lr,
                   double momentum, double dampening, double weight_decay, bool nesterov, bool maximize,
                   bool is_first_step) {
  optim::fused_sgd_step(params, grads, momentum_buffers, lr, momentum, dampening, weight_decay, nesterov, maximize,
                        is_first_step, [&](const optim::SgdStep& s) {
    VT_DISPATCH_FLOATING(params[0].dtype(), "_fused_sgd_", [&]<class T>() {
      using A = opmath_t<T>;
      const bool reads_buf = s.momentum != 0 && !s.first_step;
      for_each_element<T, 3>({&params, &grads, &momentum_buffers}, [&](size_t) {
        return [&s, reads_buf](const std::array<T*, 3>& t, int64_t j) {
          A p = A(t[0][j]), buf = reads_buf ? A(t[2][j]) : A(0);
          optim::sgd_update<A>(p, A(t[1][j]), buf, s);
          t[0][j] = T(p);
          if (s.momentum != 0) t[2][j] = T(buf);
        };
      });
    });
  });
}

// Note [Multi-tensor gradient clipping]: the sum of squares in double, tensor after tensor, element
// after element (one order, run to run); the scaling in the opmath type, as the CUDA kernels.
Tensor fused_clip_grad_norm_cpu(const TensorList& grads, double max_norm) {
  optim::check_clip_grads(grads, max_norm);
  if (grads.empty()) return ops::zeros({}, DType::Float32, Device{});
  Tensor out;
  VT_DISPATCH_FLOATING(grads[0].dtype(), "_fused_clip_grad_norm_", [&]<class T>() {
    using A = opmath_t<T>;
    double sumsq = 0;
    for (const Tensor& g : grads) {
      const T* x = g.template data<T>();
      for (int64_t j = 0, n = g.numel(); j < n; ++j) {
        const double v = double(A(x[j]));
        sumsq += v * v;
      }
    }
    const A norm = A(std::sqrt(sumsq));
    const A coef = optim::clip_coef<A>(norm, A(max_norm));
    if (!(coef == A(1))) {  // x * 1 is x
      for (const Tensor& g : grads) {
        T* x = g.template data<T>();
        for (int64_t j = 0, n = g.numel(); j < n; ++j) x[j] = T(A(x[j]) * coef);
      }
    }
    optim::bump_versions({&grads});  // modified in place as far as autograd knows, as torch's mul_
    out = ops::scalar_tensor(double(norm), sizeof(A) == 8 ? DType::Float64 : DType::Float32, Device{});
  });
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_adamw_", CPU, fused_adamw_cpu);
VT_REGISTER_KERNEL("vt::_fused_sgd_", CPU, fused_sgd_cpu);
VT_REGISTER_KERNEL("vt::_fused_adamw_capturable_", CPU, fused_adamw_capturable_cpu);
VT_REGISTER_KERNEL("vt::_fused_clip_grad_norm_", CPU, fused_clip_grad_norm_cpu);

}  // namespace vt::cpu
