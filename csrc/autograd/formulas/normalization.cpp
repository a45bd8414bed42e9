// Autograd kernels of layer_norm and rms_norm. The forward runs vt::native_layer_norm /
// native_rms_norm, which also return the per-row statistics, and the backward runs the fused
// vt::native_norm_backward for all gradients at once, on whatever device the input is.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct NormBackward : Node {
  SavedVariable input, weight, mean, rstd;
  IntList normalized_shape;
  bool centered = true, has_weight = false, has_bias = false;
  InputMeta in, wm, bm;
  std::string name() const override { return centered ? "NativeLayerNormBackward0" : "RmsNormBackward0"; }
  void release_variables() override { input.reset(); weight.reset(); mean.reset(); rstd.reset(); }
  TensorList apply(TensorList&& g) override {
    std::optional<Tensor> w, mu;
    if (has_weight) w = weight.unpack(this);
    if (centered) mu = mean.unpack(this);
    auto [dx, dw, db] = ops::native_norm_backward(g[0], input.unpack(this), mu, rstd.unpack(this), w, normalized_shape,
                                                  needs(*this, 0), has_weight && needs(*this, 1),
                                                  has_bias && needs(*this, 2));
    auto cast = [](const Tensor& t, const InputMeta& m) { return !t.defined() || t.dtype() == m.dtype ? t : ops::to_dtype(t, m.dtype); };
    TensorList r(centered ? 3 : 2);
    r[0] = cast(dx, in);
    r[1] = cast(dw, wm);
    if (centered) r[2] = cast(db, bm);
    return r;
  }
};

void record(const std::shared_ptr<NormBackward>& n, const Tensor& input, const IntList& shape, const Tensor& w,
            const Tensor& b, Tensor& out, const Tensor& mean, const Tensor& rstd) {
  n->input = SavedVariable(input, false);
  if (w.defined()) n->weight = SavedVariable(w, false);
  if (mean.defined()) n->mean = SavedVariable(mean, false);
  n->rstd = SavedVariable(rstd, false);
  n->normalized_shape = shape;
  n->has_weight = w.defined();
  n->has_bias = b.defined();
  n->in = meta_of(input);
  if (w.defined()) n->wm = meta_of(w);
  if (b.defined()) n->bm = meta_of(b);
  set_history(n, {&out});
}

Tensor layer_norm_ag(const Tensor& input, const IntList& normalized_shape, const std::optional<Tensor>& weight,
                     const std::optional<Tensor>& bias, double eps) {
  Tensor w = weight.value_or(Tensor()), b = bias.value_or(Tensor());
  auto n = make_node<NormBackward>(input, w, b);
  if (!n) return below_autograd([&] { return ops::layer_norm(input, normalized_shape, weight, bias, eps); });
  auto [out, mean, rstd] = below_autograd([&] { return ops::native_layer_norm(input, normalized_shape, weight, bias, eps); });
  n->centered = true;
  record(n, input, normalized_shape, w, b, out, mean, rstd);
  return out;
}

Tensor rms_norm_ag(const Tensor& input, const IntList& normalized_shape, const std::optional<Tensor>& weight,
                   std::optional<double> eps) {
  Tensor w = weight.value_or(Tensor());
  auto n = make_node<NormBackward>(input, w);
  if (!n) return below_autograd([&] { return ops::rms_norm(input, normalized_shape, weight, eps); });
  auto [out, rstd] = below_autograd([&] { return ops::native_rms_norm(input, normalized_shape, weight, eps); });
  n->centered = false;
  record(n, input, normalized_shape, w, Tensor(), out, Tensor(), rstd);
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::layer_norm", Autograd, layer_norm_ag);
VT_REGISTER_KERNEL("vt::rms_norm", Autograd, rms_norm_ag);

}  // namespace vt::autograd
