// Autograd kernel of vt::_max_pool2d (Note [Max pooling] in ops/max_pool_args.h): the indices
// the forward kept route each output's gradient to its input element; the indices are not differentiable.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct MaxPool2dBackward : Node {
  SavedVariable indices;
  int64_t height = 0, width = 0;
  IntList kernel_size, stride, padding, dilation;  // the forward's window: the CUDA backward walks it
  std::string name() const override { return "MaxPool2DWithIndicesBackward0"; }
  void release_variables() override { indices.reset(); }
  TensorList apply(TensorList&& g) override {
    return {ops::_max_pool2d_backward(g[0], indices.unpack(this), height, width, kernel_size, stride, padding, dilation)};
  }
};

std::tuple<Tensor, Tensor> max_pool2d_ag(const Tensor& input, const IntList& kernel_size, const IntList& stride,
                                         const IntList& padding, const IntList& dilation, bool ceil_mode) {
  auto [out, indices] = below_autograd([&] {
    return ops::_max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode);
  });
  if (auto n = make_node<MaxPool2dBackward>(input)) {
    n->indices = SavedVariable(indices, false);
    n->height = input.size(2), n->width = input.size(3);
    n->kernel_size = kernel_size, n->stride = stride, n->padding = padding, n->dilation = dilation;
    set_history(n, {&out});
  }
  return {out, indices};
}

// The derivative of the backward kernel, for create_graph (Note [Double backward] in autograd/node.h):
// the backward adds each output's gradient at its index, so it is linear in the gradient and its own
// gradient is a gather of the incoming one at the same indices (the indices carry no derivative, as in
// torch). A gradient penalty through a CNN with max pooling takes this path.
struct MaxPool2dBackwardBackward : Node {
  SavedVariable indices;
  std::string name() const override { return "MaxPool2DWithIndicesBackwardBackward0"; }
  void release_variables() override { indices.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor idx = indices.unpack(this);
    const int64_t n = idx.size(0), c = idx.size(1), oh = idx.size(2), ow = idx.size(3);
    Tensor flat = ops::reshape(g[0], {n, c, g[0].size(2) * g[0].size(3)});
    return {ops::reshape(ops::gather(flat, 2, ops::reshape(idx, {n, c, oh * ow})), {n, c, oh, ow})};
  }
};

Tensor max_pool2d_backward_ag(const Tensor& grad, const Tensor& indices, int64_t height, int64_t width,
                              const IntList& kernel_size, const IntList& stride, const IntList& padding,
                              const IntList& dilation) {
  Tensor out = below_autograd([&] {
    return ops::_max_pool2d_backward(grad, indices, height, width, kernel_size, stride, padding, dilation);
  });
  if (auto n = make_node<MaxPool2dBackwardBackward>(grad)) {
    n->indices = SavedVariable(indices, false);
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::_max_pool2d", Autograd, max_pool2d_ag);
VT_REGISTER_KERNEL("vt::_max_pool2d_backward", Autograd, max_pool2d_backward_ag);

}  // namespace vt::autograd
