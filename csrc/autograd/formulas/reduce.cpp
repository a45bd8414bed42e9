// Autograd kernels of the reductions: sum, mean, amax, amin, max_dim, min_dim. argmax and
// argmin have integer results and no gradient.
#include "autograd/formulas/formula_helpers.h"
#include "ops/reduction_util.h"

namespace vt::autograd {
namespace {

// The gradient of a reduction result, reshaped to the keepdim shape so it broadcasts against
// the input.
Tensor to_kept(const Tensor& g, const DimVector& kept_shape) { return ops::reshape(g, kept_shape.vec()); }

Tensor cast_like(const Tensor& t, DType d) { return t.dtype() == d ? t : ops::to_dtype(t, d); }

struct SumBackward : Node {
  InputMeta in;
  DimVector kept_shape;
  int64_t count = 1;
  bool mean = false;
  std::string name() const override { return mean ? "MeanBackward0" : "SumBackward0"; }
  TensorList apply(TensorList&& g) override {
    Tensor gk = to_kept(g[0], kept_shape);
    if (mean) gk = ops::div(gk, ops::wrap_scalar(Scalar(double(count))));
    return {cast_like(ops::expand(gk, in.shape.vec()), in.dtype)};
  }
};

template <bool Mean>
Tensor sum_mean_ag(const Tensor& self, const std::optional<IntList>& dim, bool keepdim, std::optional<DType> dtype) {
  Tensor out = below_autograd([&] { return Mean ? ops::mean(self, dim, keepdim, dtype) : ops::sum(self, dim, keepdim, dtype); });
  if (auto n = make_node<SumBackward>(self)) {
    ReductionDims rd = reduction_dims(self.sizes(), dim, keepdim, Mean ? "mean" : "sum");
    n->in = meta_of(self);
    n->kept_shape = rd.kept_shape;
    n->count = rd.count;
    n->mean = Mean;
    set_history(n, {&out});
  }
  return out;
}

// amax / amin: the gradient is shared evenly among the elements equal to the result (as torch).
struct AmaxAminBackward : Node {
  SavedVariable self, result;
  DimVector kept_shape;
  IntList dims;
  bool is_max = true;
  std::string name() const override { return is_max ? "AmaxBackward0" : "AminBackward0"; }
  void release_variables() override { self.reset(); result.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor x = self.unpack(this);
    Tensor hit = ops::to_dtype(ops::eq(x, to_kept(result.unpack(this), kept_shape)), g[0].dtype());
    Tensor count = ops::sum(hit, dims, true, std::nullopt);
    return {cast_like(ops::mul(ops::div(to_kept(g[0], kept_shape), count), hit), x.dtype())};
  }
};

template <bool IsMax>
Tensor amax_amin_ag(const Tensor& self, const std::optional<IntList>& dim, bool keepdim) {
  Tensor out = below_autograd([&] { return IsMax ? ops::amax(self, dim, keepdim) : ops::amin(self, dim, keepdim); });
  if (auto n = make_node<AmaxAminBackward>(self)) {
    ReductionDims rd = reduction_dims(self.sizes(), dim, keepdim, IsMax ? "amax" : "amin");
    n->self = SavedVariable(self, false);
    n->result = SavedVariable(out, true);
    n->kept_shape = rd.kept_shape;
    n->dims = reduced_dim_list(rd);
    n->is_max = IsMax;
    set_history(n, {&out});
  }
  return out;
}

// max_dim / min_dim: the gradient goes to the position the index names. The one-hot mask is
// built by comparing an arange along `dim` with the indices, so it needs elementwise ops only.
struct MaxMinDimBackward : Node {
  SavedVariable indices;
  InputMeta in;
  int64_t dim = 0;
  bool keepdim = false, is_max = true;
  std::string name() const override { return is_max ? "MaxBackward0" : "MinBackward0"; }
  void release_variables() override { indices.reset(); }
  TensorList apply(TensorList&& g) override {
    if (in.shape.empty()) return {cast_like(g[0], in.dtype)};
    Tensor idx = indices.unpack(this), gk = g[0];
    if (!keepdim) { idx = ops::unsqueeze(idx, dim); gk = ops::unsqueeze(gk, dim); }
    IntList pos_shape(in.shape.size() - size_t(dim), 1);
    pos_shape[0] = in.shape[size_t(dim)];
    Tensor pos = ops::view(ops::arange(Scalar(int64_t(0)), Scalar(pos_shape[0]), Scalar(int64_t(1)), DType::Int64, idx.device()),
                           pos_shape);
    Tensor zero = ops::zeros({}, gk.dtype(), gk.device());
    return {cast_like(ops::where(ops::eq(pos, idx), gk, zero), in.dtype)};
  }
};

template <bool IsMax>
std::tuple<Tensor, Tensor> max_min_dim_ag(const Tensor& self, int64_t dim, bool keepdim) {
  auto [values, indices] = below_autograd([&] { return IsMax ? ops::max_dim(self, dim, keepdim) : ops::min_dim(self, dim, keepdim); });
  if (auto n = make_node<MaxMinDimBackward>(self)) {
    n->indices = SavedVariable(indices, true);
    n->in = meta_of(self);
    n->dim = wrap_dim(dim, self.dim(), IsMax ? "max" : "min");
    n->keepdim = keepdim;
    n->is_max = IsMax;
    set_history(n, {&values});
  }
  return {values, indices};
}

}  // namespace

VT_REGISTER_KERNEL("vt::sum", Autograd, sum_mean_ag<false>);
VT_REGISTER_KERNEL("vt::mean", Autograd, sum_mean_ag<true>);
VT_REGISTER_KERNEL("vt::amax", Autograd, amax_amin_ag<true>);
VT_REGISTER_KERNEL("vt::amin", Autograd, amax_amin_ag<false>);
VT_REGISTER_KERNEL("vt::max_dim", Autograd, max_min_dim_ag<true>);
VT_REGISTER_KERNEL("vt::min_dim", Autograd, max_min_dim_ag<false>);

}  // namespace vt::autograd
