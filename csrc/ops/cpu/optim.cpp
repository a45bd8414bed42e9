// CPU kernel of the multi-tensor Adam/AdamW step (Note [Multi-tensor optimizer step]).
#include "ops/cpu/loops.h"
#include "ops/optim/adam_update.h"
#include "ops/optim/multi_tensor.h"

namespace vt::cpu {
namespace {

// One tensor's update; an OpenMP loop above a size where threads pay off.
template <class T>
void adam_tensor(T* p, const T* g, T* m, T* v, int64_t n, const optim::AdamStep& s) {
  using A = opmath_t<T>;
#pragma omp parallel for if (n > 65536) schedule(static)
  for (int64_t j = 0; j < n; ++j) {
    A pj = A(p[j]), mj = A(m[j]), vj = A(v[j]);
    optim::adam_update<A>(pj, A(g[j]), mj, vj, s);
    p[j] = T(pj), m[j] = T(mj), v[j] = T(vj);
  }
}


void fused_adamw_cpu(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                     const TensorList& exp_avg_sqs, double lr, double beta1, double beta2, double weight_decay,
                     double eps, double step, bool decoupled_weight_decay, bool maximize) {
  optim::fused_adamw_step(params, grads, exp_avgs, exp_avg_sqs, lr, beta1, beta2, weight_decay, eps, step,
                          decoupled_weight_decay, maximize, [&](const optim::AdamStep& s) {
    VT_DISPATCH_FLOATING(params[0].dtype(), "_fused_adamw_", [&]<class T>() {
      for (size_t i = 0; i < params.size(); ++i)
        adam_tensor<T>(params[i].data<T>(), grads[i].data<T>(), exp_avgs[i].data<T>(), exp_avg_sqs[i].data<T>(),
                       params[i].numel(), s);
    });
  });
}

}  // namespace

VT_REGISTER_KERNEL("vt::_fused_adamw_", CPU, fused_adamw_cpu);

}  // namespace vt::cpu
