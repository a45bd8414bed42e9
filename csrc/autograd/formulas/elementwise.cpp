// Autograd kernels and backward nodes of the elementwise ops.
#include <cmath>
#include <optional>

#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {

// Note [In-place autograd]
// vibetensor does not track view bases, so an in-place op on a tensor that takes part in
// autograd computes its out-of-place result (recording a node), copies the values into self
// and moves the node onto self. A leaf that requires grad rejects in-place ops, as in torch.
// The out-of-place result is computed from a copy of self (see inplace_source), so a node
// that saves self keeps the values from before the write, as torch does.
Tensor apply_inplace_with_history(const char* op, const Tensor& self, const Tensor& result) {
  VT_CHECK(!(self->is_leaf() && self->requires_grad()), op, ": a leaf Variable that requires grad is being used in an "
           "in-place operation.");
  below_autograd([&] { return ops::copy_(self, result, false); });
  if (result->requires_grad()) {
    AutogradMeta& m = self->ensure_autograd_meta();
    m.grad_fn = result->grad_fn();
    m.output_nr = result->autograd_meta()->output_nr;
  }
  return self;
}

namespace {

// The value an in-place op reads: a copy of self carrying self's history (CloneBackward).
Tensor inplace_source(const Tensor& self) { return ops::clone(self); }

struct AddBackward : Node {
  double alpha = 1;
  InputMeta a, b;
  const char* op_name = "AddBackward0";
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& g) override {
    TensorList r(2);
    if (needs(*this, 0)) r[0] = reduce_grad(g[0], a);
    if (needs(*this, 1)) r[1] = reduce_grad(alpha == 1 ? g[0] : ops::mul(g[0], scalar_like(alpha, g[0])), b);
    return r;
  }
};
struct MulBackward : Node {
  SavedVariable a, b;
  InputMeta am, bm;
  std::string name() const override { return "MulBackward0"; }
  void release_variables() override { a.reset(); b.reset(); }
  TensorList apply(TensorList&& g) override {
    TensorList r(2);
    if (needs(*this, 0)) r[0] = reduce_grad(ops::mul(g[0], b.unpack(this)), am);
    if (needs(*this, 1)) r[1] = reduce_grad(ops::mul(g[0], a.unpack(this)), bm);
    return r;
  }
};
struct DivBackward : Node {
  SavedVariable a, b;
  InputMeta am, bm;
  std::string name() const override { return "DivBackward0"; }
  void release_variables() override { a.reset(); b.reset(); }
  TensorList apply(TensorList&& g) override {
    TensorList r(2);
    Tensor bv = b.unpack(this);
    if (needs(*this, 0)) r[0] = reduce_grad(ops::div(g[0], bv), am);
    if (needs(*this, 1)) r[1] = reduce_grad(ops::neg(ops::div(ops::mul(g[0], a.unpack(this)), ops::mul(bv, bv))), bm);
    return r;
  }
};
struct PowBackward : Node {
  SavedVariable self, exponent, result;
  InputMeta am, bm;
  bool scalar_exponent = false;
  std::optional<double> e_value;  // a Python-number exponent: its backward is scalar arithmetic
  std::string name() const override { return scalar_exponent ? "PowBackward0" : "PowBackward1"; }
  void release_variables() override { self.reset(); exponent.reset(); result.reset(); }
  // d/dx x^e = e x^(e-1), with e a number (Note [Scalar exponents]); 0 for e = 0, as in torch.
  Tensor scalar_grad(const Tensor& g, const Tensor& x, double e) const {
    if (e == 0.0) return ops::zeros(IntList(g.sizes().begin(), g.sizes().end()), g.dtype(), g.device());
    if (e == 1.0) return g;
    Tensor d = e == 2.0 ? ops::mul(x, ops::wrap_scalar(Scalar(2.0)))
                        : ops::mul(ops::pow(x, ops::wrap_scalar(Scalar(e - 1.0))), ops::wrap_scalar(Scalar(e)));
    return ops::mul(g, d);
  }
  TensorList apply(TensorList&& g) override {
    TensorList r(2);
    Tensor x = self.unpack(this), e = exponent.unpack(this);
    if (needs(*this, 0) && e_value && is_floating(x.dtype())) {
      r[0] = reduce_grad(scalar_grad(g[0], x, *e_value), am);
    } else if (needs(*this, 0)) {
      Tensor em1 = ops::sub(e, scalar_like(1.0, e), Scalar(1));
      Tensor d = ops::mul(e, ops::pow(x, em1));
      // d/dx x^0 is 0 everywhere, including x = 0 where pow(0, -1) is inf.
      d = ops::where(ops::eq(e, ops::wrap_scalar(Scalar(0.0))), ops::zeros({}, d.dtype(), d.device()), d);
      r[0] = reduce_grad(ops::mul(g[0], d), am);
    }
    if (needs(*this, 1)) {
      Tensor out = result.unpack(this);
      Tensor lg = ops::where(ops::eq(x, ops::wrap_scalar(Scalar(0.0))), ops::zeros({}, x.dtype(), x.device()), ops::log(x));
      r[1] = reduce_grad(ops::mul(g[0], ops::mul(out, lg)), bm);
    }
    return r;
  }
};
struct MaxMinBackward : Node {  // maximum / minimum
  SavedVariable a, b;
  InputMeta am, bm;
  bool is_max = true;
  std::string name() const override { return is_max ? "MaximumBackward0" : "MinimumBackward0"; }
  void release_variables() override { a.reset(); b.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor av = a.unpack(this), bv = b.unpack(this);
    Tensor pick_a = is_max ? ops::ge(av, bv) : ops::le(av, bv);
    Tensor zero = ops::zeros({}, g[0].dtype(), g[0].device());
    TensorList r(2);
    if (needs(*this, 0)) r[0] = reduce_grad(ops::where(pick_a, g[0], zero), am);
    if (needs(*this, 1)) r[1] = reduce_grad(ops::where(pick_a, zero, g[0]), bm);
    return r;
  }
};
struct WhereBackward : Node {
  SavedVariable cond;
  InputMeta am, bm;
  std::string name() const override { return "WhereBackward0"; }
  void release_variables() override { cond.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor c = cond.unpack(this);
    Tensor zero = ops::zeros({}, g[0].dtype(), g[0].device());
    TensorList r(3);
    if (needs(*this, 1)) r[1] = reduce_grad(ops::where(c, g[0], zero), am);
    if (needs(*this, 2)) r[2] = reduce_grad(ops::where(c, zero, g[0]), bm);
    return r;
  }
};
struct MaskedFillBackward : Node {
  SavedVariable mask;
  InputMeta am;
  std::string name() const override { return "MaskedFillBackward0"; }
  void release_variables() override { mask.reset(); }
  TensorList apply(TensorList&& g) override {
    return {reduce_grad(ops::masked_fill(g[0], mask.unpack(this), Scalar(0.0)), am), Tensor()};
  }
};

// Unary ops: grad_in = f(grad, saved input or output).
template <class F>
struct UnaryBackward : Node {
  SavedVariable saved;
  InputMeta am;
  const char* op_name = "";
  F f;
  explicit UnaryBackward(F fn = F()) : f(fn) {}
  std::string name() const override { return op_name; }
  void release_variables() override { saved.reset(); }
  TensorList apply(TensorList&& g) override { return {reduce_grad(f(g[0], saved.unpack(this)), am)}; }
};

enum class Save { input, output, nothing };

template <class F>
Tensor unary_autograd(const char* node_name, const Tensor& x, Tensor out, Save save, F f) {
  if (!any_requires_grad({&x})) return out;
  auto n = std::make_shared<UnaryBackward<F>>(f);
  n->next_edges = collect_next_edges({&x});
  n->op_name = node_name;
  n->am = meta_of(x);
  if (save == Save::output) n->saved = SavedVariable(out, true);
  if (save == Save::input) n->saved = SavedVariable(x, false);
  set_history(n, {&out});
  return out;
}

Tensor add_ag(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  Tensor out = below_autograd([&] { return ops::add(a, b, alpha); });
  if (auto n = make_node<AddBackward>(a, b)) {
    n->alpha = alpha.to_double(); n->a = meta_of(a); n->b = meta_of(b);
    set_history(n, {&out});
  }
  return out;
}
Tensor sub_ag(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  Tensor out = below_autograd([&] { return ops::sub(a, b, alpha); });
  if (auto n = make_node<AddBackward>(a, b)) {
    n->alpha = -alpha.to_double(); n->a = meta_of(a); n->b = meta_of(b);
    n->op_name = "SubBackward0";
    set_history(n, {&out});
  }
  return out;
}
Tensor mul_ag(const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return ops::mul(a, b); });
  if (auto n = make_node<MulBackward>(a, b)) {
    // Each input's gradient needs only the other input.
    if (needs(*n, 1)) n->a = SavedVariable(a, false);
    if (needs(*n, 0)) n->b = SavedVariable(b, false);
    n->am = meta_of(a); n->bm = meta_of(b);
    set_history(n, {&out});
  }
  return out;
}
Tensor div_ag(const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return ops::div(a, b); });
  if (auto n = make_node<DivBackward>(a, b)) {
    n->a = SavedVariable(a, false); n->b = SavedVariable(b, false);
    n->am = meta_of(a); n->bm = meta_of(b);
    set_history(n, {&out});
  }
  return out;
}
Tensor pow_ag(const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return ops::pow(a, b); });
  if (auto n = make_node<PowBackward>(a, b)) {
    n->self = SavedVariable(a, false); n->exponent = SavedVariable(b, false);
    n->scalar_exponent = b->is_wrapped_number;
    if (b->is_wrapped_number && b.dtype() == DType::Float64) n->e_value = *b.data<double>();
    if (b->is_wrapped_number && b.dtype() == DType::Int64) n->e_value = double(*b.data<int64_t>());
    n->result = SavedVariable(out, true);
    n->am = meta_of(a); n->bm = meta_of(b);
    set_history(n, {&out});
  }
  return out;
}
template <bool IsMax>
Tensor maxmin_ag(const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return IsMax ? ops::maximum(a, b) : ops::minimum(a, b); });
  if (auto n = make_node<MaxMinBackward>(a, b)) {
    n->is_max = IsMax;
    n->a = SavedVariable(a, false); n->b = SavedVariable(b, false);
    n->am = meta_of(a); n->bm = meta_of(b);
    set_history(n, {&out});
  }
  return out;
}
Tensor where_ag(const Tensor& c, const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return ops::where(c, a, b); });
  if (auto n = make_node<WhereBackward>(c, a, b)) {
    n->cond = SavedVariable(c, false); n->am = meta_of(a); n->bm = meta_of(b);
    set_history(n, {&out});
  }
  return out;
}
Tensor masked_fill_ag(const Tensor& self, const Tensor& mask, const Scalar& v) {
  Tensor out = below_autograd([&] { return ops::masked_fill(self, mask, v); });
  if (auto n = make_node<MaskedFillBackward>(self, mask)) {
    n->mask = SavedVariable(mask, false); n->am = meta_of(self);
    set_history(n, {&out});
  }
  return out;
}

Tensor neg_ag(const Tensor& x) {
  return unary_autograd("NegBackward0", x, below_autograd([&] { return ops::neg(x); }), Save::nothing,
                        [](const Tensor& g, const Tensor&) { return ops::neg(g); });
}
Tensor abs_ag(const Tensor& x) {
  return unary_autograd("AbsBackward0", x, below_autograd([&] { return ops::abs(x); }), Save::input,
                        [](const Tensor& g, const Tensor& s) {
                          Tensor zero = ops::zeros({}, s.dtype(), s.device());
                          Tensor sign = ops::sub(ops::to_dtype(ops::gt(s, zero), s.dtype()), ops::to_dtype(ops::lt(s, zero), s.dtype()), Scalar(1));
                          return ops::mul(g, sign);
                        });
}
Tensor exp_ag(const Tensor& x) {
  return unary_autograd("ExpBackward0", x, below_autograd([&] { return ops::exp(x); }), Save::output,
                        [](const Tensor& g, const Tensor& out) { return ops::mul(g, out); });
}
Tensor log_ag(const Tensor& x) {
  return unary_autograd("LogBackward0", x, below_autograd([&] { return ops::log(x); }), Save::input,
                        [](const Tensor& g, const Tensor& s) { return ops::div(g, s); });
}
Tensor sqrt_ag(const Tensor& x) {
  return unary_autograd("SqrtBackward0", x, below_autograd([&] { return ops::sqrt(x); }), Save::output,
                        [](const Tensor& g, const Tensor& out) { return ops::div(g, ops::mul(out, scalar_like(2.0, out))); });
}
Tensor rsqrt_ag(const Tensor& x) {
  return unary_autograd("RsqrtBackward0", x, below_autograd([&] { return ops::rsqrt(x); }), Save::output,
                        [](const Tensor& g, const Tensor& out) {
                          return ops::mul(ops::mul(g, scalar_like(-0.5, out)), ops::mul(out, ops::mul(out, out)));
                        });
}
Tensor sin_ag(const Tensor& x) {
  return unary_autograd("SinBackward0", x, below_autograd([&] { return ops::sin(x); }), Save::input,
                        [](const Tensor& g, const Tensor& s) { return ops::mul(g, ops::cos(s)); });
}
Tensor cos_ag(const Tensor& x) {
  return unary_autograd("CosBackward0", x, below_autograd([&] { return ops::cos(x); }), Save::input,
                        [](const Tensor& g, const Tensor& s) { return ops::neg(ops::mul(g, ops::sin(s))); });
}
Tensor tanh_ag(const Tensor& x) {
  return unary_autograd("TanhBackward0", x, below_autograd([&] { return ops::tanh(x); }), Save::output,
                        [](const Tensor& g, const Tensor& out) {
                          return ops::mul(g, ops::sub(scalar_like(1.0, out), ops::mul(out, out), Scalar(1)));
                        });
}
Tensor sigmoid_ag(const Tensor& x) {
  return unary_autograd("SigmoidBackward0", x, below_autograd([&] { return ops::sigmoid(x); }), Save::output,
                        [](const Tensor& g, const Tensor& out) {
                          return ops::mul(g, ops::mul(out, ops::sub(scalar_like(1.0, out), out, Scalar(1))));
                        });
}
Tensor relu_ag(const Tensor& x) {
  return unary_autograd("ReluBackward0", x, below_autograd([&] { return ops::relu(x); }), Save::output,
                        [](const Tensor& g, const Tensor& out) { return ops::threshold_backward(g, out, 0.0); });
}
Tensor gelu_ag(const Tensor& x, const std::string& approximate) {
  return unary_autograd("GeluBackward0", x, below_autograd([&] { return ops::gelu(x, approximate); }), Save::input,
                        [approximate](const Tensor& g, const Tensor& s) { return ops::gelu_backward(g, s, approximate); });
}
// The derivatives of relu's and gelu's backward kernels, for create_graph (Note [Double backward] in
// autograd/node.h). threshold_backward(g, x) = g * (x > t): linear in g, zero in x (as torch's).
// gelu_backward(g, x) = g * gelu'(x): linear in g; in x, g * gelu''(x).
struct ThresholdBackwardBackward : Node {
  SavedVariable self;
  double threshold = 0;
  std::string name() const override { return "ThresholdBackwardBackward0"; }
  void release_variables() override { self.reset(); }
  TensorList apply(TensorList&& g) override {
    TensorList r(2);
    if (needs(*this, 0)) r[0] = ops::threshold_backward(g[0], self.unpack(this), threshold);
    return r;
  }
};
Tensor threshold_backward_ag(const Tensor& grad, const Tensor& self, double threshold) {
  Tensor out = below_autograd([&] { return ops::threshold_backward(grad, self, threshold); });
  if (auto n = make_node<ThresholdBackwardBackward>(grad, self)) {
    if (needs(*n, 0)) n->self = SavedVariable(self, false);
    n->threshold = threshold;
    set_history(n, {&out});
  }
  return out;
}

// gelu''(x): exact, phi(x) (2 - x^2) with phi the standard normal density; tanh, with t = tanh(u),
// u = k (x + c x^3), u' = k (1 + 3 c x^2), u'' = 6 k c x: (1 - t^2) (u' - x t u'^2 + x u'' / 2).
Tensor gelu_second_derivative(const Tensor& x, const std::string& approximate) {
  auto c = [&](double v) { return scalar_like(v, x); };
  Tensor x2 = ops::mul(x, x);
  if (approximate != "tanh") {
    Tensor phi = ops::mul(ops::exp(ops::mul(x2, c(-0.5))), c(0.3989422804014327));  // 1 / sqrt(2 pi)
    return ops::mul(phi, ops::sub(c(2.0), x2, Scalar(1)));
  }
  constexpr double k = 0.7978845608028654, cubic = 0.044715;  // sqrt(2 / pi)
  Tensor t = ops::tanh(ops::mul(ops::add(x, ops::mul(ops::mul(x2, x), c(cubic)), Scalar(1)), c(k)));
  Tensor du = ops::mul(ops::add(c(1.0), ops::mul(x2, c(3 * cubic)), Scalar(1)), c(k));
  Tensor inner = ops::add(ops::sub(du, ops::mul(ops::mul(x, t), ops::mul(du, du)), Scalar(1)),
                          ops::mul(x2, c(3 * k * cubic)), Scalar(1));
  return ops::mul(ops::sub(c(1.0), ops::mul(t, t), Scalar(1)), inner);
}
struct GeluBackwardBackward : Node {
  SavedVariable grad, self;
  std::string approximate;
  InputMeta gm, sm;
  std::string name() const override { return "GeluBackwardBackward0"; }
  void release_variables() override { grad.reset(); self.reset(); }
  TensorList apply(TensorList&& g) override {
    TensorList r(2);
    Tensor x = self.unpack(this);
    if (needs(*this, 0)) r[0] = reduce_grad(ops::gelu_backward(g[0], x, approximate), gm);
    if (needs(*this, 1))
      r[1] = reduce_grad(ops::mul(ops::mul(g[0], grad.unpack(this)), gelu_second_derivative(x, approximate)), sm);
    return r;
  }
};
Tensor gelu_backward_ag(const Tensor& grad, const Tensor& self, const std::string& approximate) {
  Tensor out = below_autograd([&] { return ops::gelu_backward(grad, self, approximate); });
  if (auto n = make_node<GeluBackwardBackward>(grad, self)) {
    n->self = SavedVariable(self, false);
    if (needs(*n, 1)) n->grad = SavedVariable(grad, false);
    n->approximate = approximate;
    n->gm = meta_of(grad); n->sm = meta_of(self);
    set_history(n, {&out});
  }
  return out;
}

Tensor clamp_ag(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  return unary_autograd("ClampBackward1", x, below_autograd([&] { return ops::clamp(x, lo, hi); }), Save::input,
                        [lo, hi](const Tensor& g, const Tensor& s) {
                          Tensor keep = ops::full({}, Scalar(true), DType::Bool, s.device());
                          if (lo) keep = ops::logical_and(keep, ops::ge(s, ops::wrap_scalar(Scalar(*lo))));
                          if (hi) keep = ops::logical_and(keep, ops::le(s, ops::wrap_scalar(Scalar(*hi))));
                          return ops::where(keep, g, ops::zeros({}, g.dtype(), g.device()));
                        });
}
Tensor to_dtype_ag(const Tensor& x, DType dtype) {
  Tensor out = below_autograd([&] { return ops::to_dtype(x, dtype); });
  if (out.is_same(x)) return out;
  VT_CHECK_TYPE(is_floating(dtype) || !x.requires_grad() || !GradMode::is_enabled(), "to: only tensors of floating point "
                "dtype can require gradients (converting to ", dtype, ")");
  return unary_autograd("ToCopyBackward0", x, out, Save::nothing, [](const Tensor& g, const Tensor&) { return g; });
}
Tensor clone_ag(const Tensor& x) {
  return unary_autograd("CloneBackward0", x, below_autograd([&] { return ops::clone(x); }), Save::nothing,
                        [](const Tensor& g, const Tensor&) { return g; });
}

// In-place forms.
Tensor add__ag(const Tensor& self, const Tensor& o, const Scalar& alpha) {
  return apply_inplace_with_history("add_", self, add_ag(inplace_source(self), o, alpha));
}
Tensor sub__ag(const Tensor& self, const Tensor& o, const Scalar& alpha) {
  return apply_inplace_with_history("sub_", self, sub_ag(inplace_source(self), o, alpha));
}
Tensor mul__ag(const Tensor& self, const Tensor& o) {
  return apply_inplace_with_history("mul_", self, mul_ag(inplace_source(self), o));
}
Tensor div__ag(const Tensor& self, const Tensor& o) {
  return apply_inplace_with_history("div_", self, div_ag(inplace_source(self), o));
}
Tensor clamp__ag(const Tensor& self, std::optional<double> lo, std::optional<double> hi) {
  return apply_inplace_with_history("clamp_", self, clamp_ag(inplace_source(self), lo, hi));
}
Tensor masked_fill__ag(const Tensor& self, const Tensor& mask, const Scalar& v) {
  return apply_inplace_with_history("masked_fill_", self, masked_fill_ag(inplace_source(self), mask, v));
}
Tensor copy__ag(const Tensor& self, const Tensor& src, bool non_blocking) {
  VT_CHECK(!(self->is_leaf() && self->requires_grad()), "copy_: a leaf Variable that requires grad is being used in an "
           "in-place operation.");
  Tensor expanded = ops::expand(src, DimVector(self.sizes()).vec());
  Tensor result = self.dtype() == src.dtype() ? ops::clone(expanded) : ops::to_dtype(expanded, self.dtype());
  (void)non_blocking;
  return apply_inplace_with_history("copy_", self, result);
}

}  // namespace

VT_REGISTER_KERNEL("vt::add", Autograd, add_ag);
VT_REGISTER_KERNEL("vt::sub", Autograd, sub_ag);
VT_REGISTER_KERNEL("vt::mul", Autograd, mul_ag);
VT_REGISTER_KERNEL("vt::div", Autograd, div_ag);
VT_REGISTER_KERNEL("vt::pow", Autograd, pow_ag);
VT_REGISTER_KERNEL("vt::maximum", Autograd, maxmin_ag<true>);
VT_REGISTER_KERNEL("vt::minimum", Autograd, maxmin_ag<false>);
VT_REGISTER_KERNEL("vt::where", Autograd, where_ag);
VT_REGISTER_KERNEL("vt::masked_fill", Autograd, masked_fill_ag);
VT_REGISTER_KERNEL("vt::neg", Autograd, neg_ag);
VT_REGISTER_KERNEL("vt::abs", Autograd, abs_ag);
VT_REGISTER_KERNEL("vt::exp", Autograd, exp_ag);
VT_REGISTER_KERNEL("vt::log", Autograd, log_ag);
VT_REGISTER_KERNEL("vt::sqrt", Autograd, sqrt_ag);
VT_REGISTER_KERNEL("vt::rsqrt", Autograd, rsqrt_ag);
VT_REGISTER_KERNEL("vt::sin", Autograd, sin_ag);
VT_REGISTER_KERNEL("vt::cos", Autograd, cos_ag);
VT_REGISTER_KERNEL("vt::tanh", Autograd, tanh_ag);
VT_REGISTER_KERNEL("vt::sigmoid", Autograd, sigmoid_ag);
VT_REGISTER_KERNEL("vt::relu", Autograd, relu_ag);
VT_REGISTER_KERNEL("vt::gelu", Autograd, gelu_ag);
VT_REGISTER_KERNEL("vt::clamp", Autograd, clamp_ag);
VT_REGISTER_KERNEL("vt::to_dtype", Autograd, to_dtype_ag);
VT_REGISTER_KERNEL("vt::clone", Autograd, clone_ag);
VT_REGISTER_KERNEL("vt::add_", Autograd, add__ag);
VT_REGISTER_KERNEL("vt::sub_", Autograd, sub__ag);
VT_REGISTER_KERNEL("vt::mul_", Autograd, mul__ag);
VT_REGISTER_KERNEL("vt::div_", Autograd, div__ag);
VT_REGISTER_KERNEL("vt::clamp_", Autograd, clamp__ag);
VT_REGISTER_KERNEL("vt::masked_fill_", Autograd, masked_fill__ag);
VT_REGISTER_KERNEL("vt::copy_", Autograd, copy__ag);
VT_REGISTER_KERNEL("vt::threshold_backward", Autograd, threshold_backward_ag);
VT_REGISTER_KERNEL("vt::gelu_backward", Autograd, gelu_backward_ag);

}  // namespace vt::autograd
