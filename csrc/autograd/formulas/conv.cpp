// Autograd kernel of vt::_conv2d_cpu (Note [CPU convolution] in ops/cpu/conv2d.cpp).
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct Conv2dBackward : Node {
  SavedVariable input, weight;
  IntList stride, padding, dilation;
  std::string name() const override { return "ConvolutionBackward0"; }
  void release_variables() override { input.reset(); weight.reset(); }
  TensorList apply(TensorList&& g) override {
    auto [gx, gw] = ops::_conv2d_cpu_backward(g[0], input.unpack(this), weight.unpack(this), stride, padding, dilation,
                                              needs(*this, 0), needs(*this, 1));
    return {gx, gw};
  }
};

Tensor conv2d_ag(const Tensor& input, const Tensor& weight, const IntList& stride, const IntList& padding,
                 const IntList& dilation) {
  Tensor out = below_autograd([&] { return ops::_conv2d_cpu(input, weight, stride, padding, dilation); });
  if (auto n = make_node<Conv2dBackward>(input, weight)) {
    n->input = SavedVariable(input, false);
    n->weight = SavedVariable(weight, false);
    n->stride = stride, n->padding = padding, n->dilation = dilation;
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::_conv2d_cpu", Autograd, conv2d_ag);

}  // namespace vt::autograd
