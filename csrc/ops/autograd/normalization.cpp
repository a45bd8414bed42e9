// Autograd kernels of layer_norm and rms_norm. The forward keeps the per-row statistics and the
// backward runs the fused CPU kernel (ops/cpu/normalization.h) for all gradients at once.
#include "ops/autograd/autograd_util.h"
#include "ops/cpu/normalization.h"

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
    std::array<bool, 3> need = {needs(*this, 0), has_weight && needs(*this, 1), has_bias && needs(*this, 2)};
    std::optional<Tensor> w;
    if (has_weight) w = weight.unpack(this);
    auto [dx, dw, db] = cpu::norm_backward(g[0], input.unpack(this), centered ? mean.unpack(this) : Tensor(),
                                           rstd.unpack(this), w, normalized_shape, need);
    auto cast = [](const Tensor& t, const InputMeta& m) { return !t.defined() || t.dtype() == m.dtype ? t : ops::to_dtype(t, m.dtype); };
    TensorList r(centered ? 3 : 2);
    r[0] = cast(dx, in);
    r[1] = cast(dw, wm);
    if (centered) r[2] = cast(db, bm);
    return r;
  }
};

void check_cpu(const char* op, const Tensor& t) {
  VT_CHECK_KIND(ErrorKind::NotImplemented, t.device().is_cpu(), op, ": autograd is implemented for CPU tensors only, got a "
                "tensor on ", t.device());
}

std::shared_ptr<NormBackward> record(const std::shared_ptr<NormBackward>& n, const Tensor& input, const IntList& shape,
                                     const Tensor& w, const Tensor& b, cpu::NormForward& f) {
  n->input = SavedVariable(input, false);
  if (w.defined()) n->weight = SavedVariable(w, false);
  n->mean = SavedVariable(f.mean, false);
  n->rstd = SavedVariable(f.rstd, false);
  n->normalized_shape = shape;
  n->has_weight = w.defined();
  n->has_bias = b.defined();
  n->in = meta_of(input);
  if (w.defined()) n->wm = meta_of(w);
  if (b.defined()) n->bm = meta_of(b);
  set_history(n, {&f.out});
  return n;
}

Tensor layer_norm_ag(const Tensor& input, const IntList& normalized_shape, const std::optional<Tensor>& weight,
                     const std::optional<Tensor>& bias, double eps) {
  Tensor w = weight.value_or(Tensor()), b = bias.value_or(Tensor());
  auto n = make_node<NormBackward>(input, w, b);
  if (!n) return below_autograd([&] { return ops::layer_norm(input, normalized_shape, weight, bias, eps); });
  check_cpu("layer_norm", input);
  cpu::NormForward f = below_autograd([&] { return cpu::layer_norm_forward(input, normalized_shape, weight, bias, eps); });
  n->centered = true;
  record(n, input, normalized_shape, w, b, f);
  return f.out;
}

Tensor rms_norm_ag(const Tensor& input, const IntList& normalized_shape, const std::optional<Tensor>& weight,
                   std::optional<double> eps) {
  Tensor w = weight.value_or(Tensor());
  auto n = make_node<NormBackward>(input, w);
  if (!n) return below_autograd([&] { return ops::rms_norm(input, normalized_shape, weight, eps); });
  check_cpu("rms_norm", input);
  cpu::NormForward f = below_autograd([&] { return cpu::rms_norm_forward(input, normalized_shape, weight, eps); });
  n->centered = false;
  record(n, input, normalized_shape, w, Tensor(), f);
  return f.out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::layer_norm", Autograd, layer_norm_ag);
VT_REGISTER_KERNEL("vt::rms_norm", Autograd, rms_norm_ag);

}  // namespace vt::autograd
