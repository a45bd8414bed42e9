// Autograd kernels of the indexing ops. Reads (embedding, gather, index_select, masked_select)
// send the gradient back with the matching accumulating write into zeros; accumulating writes
// (scatter_add, index_add) pass the gradient to self and read it back for the source.
#include "autograd/formulas/formula_helpers.h"

namespace vt::autograd {
namespace {

struct EmbeddingBackward : Node {
  SavedVariable indices;
  InputMeta weight;
  std::string name() const override { return "EmbeddingBackward0"; }
  void release_variables() override { indices.reset(); }
  TensorList apply(TensorList&& g) override {
    // Repeated indices accumulate: embedding_backward sums every row that names the same embedding.
    Tensor gw = ops::embedding_backward(g[0], indices.unpack(this), weight.shape[0]);
    return {gw.dtype() == weight.dtype ? gw : ops::to_dtype(gw, weight.dtype), Tensor()};
  }
};

struct GatherBackward : Node {
  SavedVariable index;
  InputMeta self;
  int64_t dim = 0;
  std::string name() const override { return "GatherBackward0"; }
  void release_variables() override { index.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor z = ops::zeros(self.shape.vec(), g[0].dtype(), g[0].device());
    return {ops::scatter_add(z, dim, index.unpack(this), g[0]), Tensor()};
  }
};

struct IndexSelectBackward : Node {
  SavedVariable index;
  InputMeta self;
  int64_t dim = 0;
  std::string name() const override { return "IndexSelectBackward0"; }
  void release_variables() override { index.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor z = ops::zeros(self.shape.vec(), g[0].dtype(), g[0].device());
    Tensor gi = g[0];
    if (self.shape.empty()) gi = ops::reshape(gi, {-1});  // a 0-d self gave a 0-d result
    return {ops::index_add(z, dim, index.unpack(this), gi), Tensor()};
  }
};

// Note [masked_select backward]
// The selected elements came from the positions of the broadcast shape where the mask is
// true, in row-major order. masked_select of an arange over that shape recovers those flat
// positions; index_add scatters the gradient to them, and the broadcast of self is undone by
// summing.
struct MaskedSelectBackward : Node {
  SavedVariable mask;
  InputMeta self;
  std::string name() const override { return "MaskedSelectBackward0"; }
  void release_variables() override { mask.reset(); }
  TensorList apply(TensorList&& g) override {
    Tensor m = mask.unpack(this);
    DimVector shape = broadcast_shapes(self.shape, m.sizes(), "masked_select");
    int64_t n = numel_of(shape);
    Tensor flat_pos = ops::arange(Scalar(int64_t(0)), Scalar(n), Scalar(int64_t(1)), DType::Int64, g[0].device());
    Tensor pos = ops::masked_select(ops::view(flat_pos, shape.vec()), m);
    Tensor flat = ops::index_add(ops::zeros({n}, g[0].dtype(), g[0].device()), 0, pos, g[0]);
    return {ops::sum_to_size(ops::view(flat, shape.vec()), self.shape.vec()), Tensor()};
  }
};

// The gradient of a scatter source: grad read back through the index, zero where the index
// (smaller than src) never looked.
Tensor pad_to(const Tensor& part, const InputMeta& full) {
  if (DimVector(part.sizes()) == full.shape) return part;
  Tensor z = ops::zeros(full.shape.vec(), part.dtype(), part.device());
  Tensor window = z;
  for (int64_t d = 0; d < part.dim(); ++d) window = ops::narrow(window, d, 0, part.sizes()[d]);
  ops::copy_(window, part, false);
  return z;
}

struct ScatterAddBackward : Node {
  SavedVariable index;
  InputMeta src;
  int64_t dim = 0;
  std::string name() const override { return "ScatterAddBackward0"; }
  void release_variables() override { index.reset(); }
  TensorList apply(TensorList&& g) override {
    TensorList r(3);
    if (needs(*this, 0)) r[0] = g[0];
    if (needs(*this, 2)) r[2] = pad_to(ops::gather(g[0], dim, index.unpack(this)), src);
    return r;
  }
};

struct IndexAddBackward : Node {
  SavedVariable index;
  InputMeta source;
  int64_t dim = 0;
  std::string name() const override { return "IndexAddBackward0"; }
  void release_variables() override { index.reset(); }
  TensorList apply(TensorList&& g) override {
    TensorList r(3);
    if (needs(*this, 0)) r[0] = g[0];
    if (needs(*this, 2)) r[2] = ops::reshape(ops::index_select(g[0], dim, index.unpack(this)), source.shape.vec());
    return r;
  }
};

Tensor embedding_ag(const Tensor& weight, const Tensor& indices) {
  Tensor out = below_autograd([&] { return ops::embedding(weight, indices); });
  if (auto n = make_node<EmbeddingBackward>(weight, indices)) {
    n->indices = SavedVariable(indices, false);
    n->weight = meta_of(weight);
    set_history(n, {&out});
  }
  return out;
}

Tensor gather_ag(const Tensor& self, int64_t dim, const Tensor& index) {
  Tensor out = below_autograd([&] { return ops::gather(self, dim, index); });
  if (auto n = make_node<GatherBackward>(self, index)) {
    n->index = SavedVariable(index, false);
    n->self = meta_of(self);
    n->dim = dim;
    set_history(n, {&out});
  }
  return out;
}

Tensor index_select_ag(const Tensor& self, int64_t dim, const Tensor& index) {
  Tensor out = below_autograd([&] { return ops::index_select(self, dim, index); });
  if (auto n = make_node<IndexSelectBackward>(self, index)) {
    n->index = SavedVariable(index, false);
    n->self = meta_of(self);
    n->dim = dim;
    set_history(n, {&out});
  }
  return out;
}

Tensor masked_select_ag(const Tensor& self, const Tensor& mask) {
  Tensor out = below_autograd([&] { return ops::masked_select(self, mask); });
  if (auto n = make_node<MaskedSelectBackward>(self, mask)) {
    n->mask = SavedVariable(mask, false);
    n->self = meta_of(self);
    set_history(n, {&out});
  }
  return out;
}

Tensor scatter_add_ag(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = below_autograd([&] { return ops::scatter_add(self, dim, index, src); });
  if (auto n = make_node<ScatterAddBackward>(self, index, src)) {
    if (needs(*n, 2)) n->index = SavedVariable(index, false);
    n->src = meta_of(src);
    n->dim = dim;
    set_history(n, {&out});
  }
  return out;
}

Tensor index_add_ag(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  Tensor out = below_autograd([&] { return ops::index_add(self, dim, index, source); });
  if (auto n = make_node<IndexAddBackward>(self, index, source)) {
    if (needs(*n, 2)) n->index = SavedVariable(index, false);
    n->source = meta_of(source);
    n->dim = dim;
    set_history(n, {&out});
  }
  return out;
}

}  // namespace

VT_REGISTER_KERNEL("vt::embedding", Autograd, embedding_ag);
VT_REGISTER_KERNEL("vt::gather", Autograd, gather_ag);
VT_REGISTER_KERNEL("vt::index_select", Autograd, index_select_ag);
VT_REGISTER_KERNEL("vt::masked_select", Autograd, masked_select_ag);
VT_REGISTER_KERNEL("vt::scatter_add", Autograd, scatter_add_ag);
VT_REGISTER_KERNEL("vt::index_add", Autograd, index_add_ag);

}  // namespace vt::autograd
