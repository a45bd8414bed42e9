// Autograd kernels of the view ops. Each view records a node mapping the view's gradient back
// to its base's shape.
#include "autograd/formulas/formula_helpers.h"
#include "ops/view/view_ops.h"

namespace vt::autograd {
namespace {

template <class F>
struct ViewBackward : Node {
  const char* op_name;
  InputMeta in;
  F f;
  ViewBackward(const char* n, InputMeta m, F fn) : op_name(n), in(std::move(m)), f(fn) {}
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& g) override { return {f(g[0], in)}; }
};

template <class F>
Tensor record_view(const char* node_name, const Tensor& base, Tensor out, F f) {
  if (!any_requires_grad({&base})) return out;
  auto n = std::make_shared<ViewBackward<F>>(node_name, meta_of(base), f);
  n->next_edges = collect_next_edges({&base});
  set_history(n, {&out});
  return out;
}

Tensor reshape_to(const Tensor& g, const InputMeta& in) { return ops::reshape(g, in.shape.vec()); }

// The gradient of a strided window of `in`: zeros of the base shape with g written into the window.
template <class Window>
Tensor scatter_into_zeros(const Tensor& g, const InputMeta& in, Window window) {
  Tensor z = ops::zeros(in.shape.vec(), g.dtype(), g.device());
  ops::copy_(window(z), g, false);
  return z;
}

Tensor view_ag(const Tensor& self, const IntList& size) {
  return record_view("ViewBackward0", self, below_autograd([&] { return ops::view(self, size); }), reshape_to);
}
Tensor permute_ag(const Tensor& self, const IntList& dims) {
  Tensor out = below_autograd([&] { return ops::permute(self, dims); });
  IntList inv(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inv[wrap_dim(dims[i], int64_t(dims.size()))] = int64_t(i);
  return record_view("PermuteBackward0", self, out, [inv](const Tensor& g, const InputMeta&) { return ops::permute(g, inv); });
}
Tensor slice_ag(const Tensor& self, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step) {
  Tensor out = below_autograd([&] { return ops::slice(self, dim, start, end, step); });
  return record_view("SliceBackward0", self, out, [=](const Tensor& g, const InputMeta& in) {
    return scatter_into_zeros(g, in, [&](const Tensor& z) { return ops::slice(z, dim, start, end, step); });
  });
}
Tensor select_ag(const Tensor& self, int64_t dim, int64_t index) {
  Tensor out = below_autograd([&] { return ops::select(self, dim, index); });
  return record_view("SelectBackward0", self, out, [=](const Tensor& g, const InputMeta& in) {
    return scatter_into_zeros(g, in, [&](const Tensor& z) { return ops::select(z, dim, index); });
  });
}
Tensor expand_ag(const Tensor& self, const IntList& size) {
  Tensor out = below_autograd([&] { return ops::expand(self, size); });
  return record_view("ExpandBackward0", self, out,
                     [](const Tensor& g, const InputMeta& in) { return ops::sum_to_size(g, in.shape.vec()); });
}
Tensor squeeze_ag(const Tensor& self, const std::optional<IntList>& dim) {
  return record_view("SqueezeBackward0", self, below_autograd([&] { return ops::squeeze(self, dim); }), reshape_to);
}
Tensor unsqueeze_ag(const Tensor& self, int64_t dim) {
  return record_view("UnsqueezeBackward0", self, below_autograd([&] { return ops::unsqueeze(self, dim); }), reshape_to);
}
Tensor as_strided_ag(const Tensor& self, const IntList& size, const IntList& stride, std::optional<int64_t> off) {
  Tensor out = below_autograd([&] { return ops::as_strided(self, size, stride, off); });
  // The window is taken relative to a contiguous base; overlapping windows accumulate through
  // index_add over the flattened base.
  VT_CHECK(self.is_contiguous() || !self.requires_grad(), "as_strided: backward is supported only for a contiguous input");
  int64_t rel = off.value_or(self->offset()) - self->offset();
  return record_view("AsStridedBackward0", self, out, [=](const Tensor& g, const InputMeta& in) {
    int64_t n = numel_of(in.shape);
    Tensor positions = ops::as_strided(ops::arange(Scalar(int64_t(0)), Scalar(n), Scalar(int64_t(1)), DType::Int64, g.device()),
                                       size, stride, rel);
    Tensor flat = ops::index_add(ops::zeros({n}, g.dtype(), g.device()), 0, ops::reshape(positions, {-1}), ops::reshape(g, {-1}));
    return ops::view(flat, in.shape.vec());
  });
}

}  // namespace

VT_REGISTER_KERNEL("vt::view", Autograd, view_ag);
VT_REGISTER_KERNEL("vt::permute", Autograd, permute_ag);
VT_REGISTER_KERNEL("vt::slice", Autograd, slice_ag);
VT_REGISTER_KERNEL("vt::select", Autograd, select_ag);
VT_REGISTER_KERNEL("vt::expand", Autograd, expand_ag);
VT_REGISTER_KERNEL("vt::squeeze", Autograd, squeeze_ag);
VT_REGISTER_KERNEL("vt::unsqueeze", Autograd, unsqueeze_ag);
VT_REGISTER_KERNEL("vt::as_strided", Autograd, as_strided_ag);

}  // namespace vt::autograd
