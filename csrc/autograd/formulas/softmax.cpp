// Autograd kernels of softmax and log_softmax: the backward uses the saved output only.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct SoftmaxBackward : Node {
  SavedVariable result;
  int64_t dim = 0;
  bool log = false;
  DType in_dtype = DType::Float32;
  std::string name() const override { return log ? "LogSoftmaxBackward0" : "SoftmaxBackward0"; }
  void release_variables() override { result.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor y = result.unpack(this);
    Tensor gi = log ? ops::log_softmax_backward(g[0], y, dim) : ops::softmax_backward(g[0], y, dim);
    return {gi.dtype() == in_dtype ? gi : ops::to_dtype(gi, in_dtype)};
  }
};

template <bool Log>
Tensor softmax_ag(const Tensor& self, int64_t dim) {
  Tensor out = below_autograd([&] { return Log ? ops::log_softmax(self, dim) : ops::softmax(self, dim); });
  if (auto n = make_node<SoftmaxBackward>(self)) {
    n->result = SavedVariable(out, true);
    n->dim = dim;
    n->log = Log;
    n->in_dtype = self.dtype();
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::softmax", Autograd, softmax_ag<false>);
VT_REGISTER_KERNEL("vt::log_softmax", Autograd, softmax_ag<true>);

}  // namespace vt::autograd
