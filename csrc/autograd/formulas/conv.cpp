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

// The derivatives of the backward kernel, for create_graph (Note [Double backward] in autograd/node.h), as
// torch's convolution double backward: gx = conv_input_grad(grad, W) is linear in grad and in W, gw =
// conv_weight_grad(input, grad) linear in input and in grad. With ggx, ggw the gradients of gx and gw:
//   d grad   = conv(ggx, W) + conv(input, ggw)
//   d input  = conv_input_grad(grad, ggw)
//   d weight = conv_weight_grad(ggx, grad)
// all through the differentiable ops themselves, so higher orders follow. A gradient penalty through a
// CNN (WGAN-GP) takes this path.
struct Conv2dBackwardBackward : Node {
  SavedVariable grad, input, weight;
  IntList stride, padding, dilation;
  bool has_gx = false, has_gw = false;  // which outputs the backward gave (in that order)
  std::string name() const override { return "ConvolutionBackwardBackward0"; }
  void release_variables() override { grad.reset(); input.reset(); weight.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor ggx = has_gx ? g[0] : Tensor(), ggw = has_gw ? g[has_gx ? 1 : 0] : Tensor();
    TensorList r(3);
    if (needs(*this, 0)) {
      if (ggx.defined()) r[0] = ops::_conv2d_cpu(ggx, weight.unpack(this), stride, padding, dilation);
      if (ggw.defined()) {
        Tensor t = ops::_conv2d_cpu(input.unpack(this), ggw, stride, padding, dilation);
        r[0] = r[0].defined() ? ops::add(r[0], t, Scalar(1)) : t;
      }
    }
    if (needs(*this, 1) && ggw.defined())
      r[1] = std::get<0>(ops::_conv2d_cpu_backward(grad.unpack(this), input.unpack(this), ggw, stride, padding,
                                                   dilation, true, false));
    if (needs(*this, 2) && ggx.defined())
      r[2] = std::get<1>(ops::_conv2d_cpu_backward(grad.unpack(this), ggx, weight.unpack(this), stride, padding,
                                                   dilation, false, true));
    return r;
  }
};

std::tuple<Tensor, Tensor> conv2d_backward_ag(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                              const IntList& stride, const IntList& padding, const IntList& dilation,
                                              bool input_grad, bool weight_grad) {
  auto [gx, gw] = below_autograd([&] {
    return ops::_conv2d_cpu_backward(grad, input, weight, stride, padding, dilation, input_grad, weight_grad);
  });
  if (auto n = make_node<Conv2dBackwardBackward>(grad, input, weight)) {
    n->grad = SavedVariable(grad, false);
    n->input = SavedVariable(input, false);
    n->weight = SavedVariable(weight, false);
    n->stride = stride, n->padding = padding, n->dilation = dilation;
    n->has_gx = gx.defined(), n->has_gw = gw.defined();
    if (gx.defined()) set_history(n, {&gx});
    if (gw.defined()) set_history(n, {&gw});
  }
  return {gx, gw};
}

}  // namespace

VT_REGISTER_KERNEL("vt::_conv2d_cpu", Autograd, conv2d_ag);
VT_REGISTER_KERNEL("vt::_conv2d_cpu_backward", Autograd, conv2d_backward_ag);

}  // namespace vt::autograd
