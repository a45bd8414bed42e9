#include "autograd/node.h"

#include <cstdint>
#include <mutex>

#include "core/grad_mode.h"
#include "ops/ops.h"

namespace vt::autograd {

uint64_t next_sequence_nr() {
  static std::atomic<uint64_t> n{0};
  return n.fetch_add(1, std::memory_order_relaxed);
}

SavedVariable::SavedVariable(const Tensor& t, bool is_output, uint32_t output_nr) {
  if (!t.defined()) return;
  was_defined_ = true;
  is_output_ = is_output;
  output_nr_ = output_nr;
  version_ = t->version();
  data_ = is_output ? make_view(t, t.sizes(), t.strides(), t->offset()) : t;
}

Tensor SavedVariable::unpack(const Node* owner) const {
  if (released_)
    VT_ERROR("Trying to backward through the graph a second time (or directly access saved tensors after they "
             "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
             "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time.");
  if (!was_defined_) return Tensor();
  if (data_->version() != version_)
    VT_ERROR("one of the variables needed for gradient computation has been modified by an inplace operation: "
             "[", data_.dtype(), " ", shape_str(data_.sizes()), "], which is output 0 of ", owner->name(),
             ", is at version ", data_->version(), "; expected version ", version_, " instead.");
  if (is_output_ && GradMode::is_enabled() && is_floating(data_.dtype())) {
    // create_graph: the output's history back (Note [Double backward]), on a fresh alias.
    Tensor t = make_view(data_, data_.sizes(), data_.strides(), data_->offset());
    AutogradMeta& m = t->ensure_autograd_meta();
    m.grad_fn = std::const_pointer_cast<Node>(owner->shared_from_this());
    m.output_nr = output_nr_;
    return t;
  }
  return data_;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t->requires_grad()) return {};
  AutogradMeta& m = *t->autograd_meta();
  if (m.grad_fn) return {m.grad_fn, m.output_nr};
  std::shared_ptr<Node> acc = m.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    m.grad_accumulator = acc;
  }
  return {acc, 0};
}

std::vector<Edge> collect_next_edges(std::initializer_list<const Tensor*> inputs) {
  std::vector<Edge> e;
  e.reserve(inputs.size());
  for (const Tensor* t : inputs) e.push_back(gradient_edge(*t));
  return e;
}

std::vector<Edge> collect_next_edges(const TensorList& inputs) {
  std::vector<Edge> e;
  e.reserve(inputs.size());
  for (const Tensor& t : inputs) e.push_back(gradient_edge(t));
  return e;
}

static void set_one(const std::shared_ptr<Node>& node, Tensor& out) {
  AutogradMeta& m = out->ensure_autograd_meta();
  m.grad_fn = node;
  m.output_nr = uint32_t(node->input_meta.size());
  node->input_meta.push_back({DimVector(out.sizes()), out.dtype(), out.device()});
}

void set_history(const std::shared_ptr<Node>& node, std::initializer_list<Tensor*> outputs) {
  for (Tensor* t : outputs) set_one(node, *t);
}
void set_history(const std::shared_ptr<Node>& node, TensorList& outputs) {
  for (Tensor& t : outputs) set_one(node, t);
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && (*t)->requires_grad()) return true;
  return false;
}

Tensor run_hooks(const Tensor& grad, const std::vector<std::pair<int64_t, GradHook>>& hooks) {
  Tensor g = grad;
  for (const auto& [id, fn] : hooks) {
    Tensor r = fn(g);
    if (!r.defined()) continue;
    VT_CHECK(DimVector(r.sizes()) == DimVector(g.sizes()) && r.dtype() == g.dtype(), "hook returned a gradient of ",
             r.dtype(), " ", shape_str(r.sizes()), "; expected one of the gradient's dtype and shape (", g.dtype(), " ",
             shape_str(g.sizes()), ")");
    g = r;
  }
  return g;
}

bool AccumulateGrad::needs_gil() const {
  const AutogradMeta* m = variable->autograd_meta();
  return m && !m->hooks.empty();
}

namespace {
// Two backward passes that share a leaf (autograd.gate=per_graph or none, several threads) may
// accumulate into its .grad at once; the read-modify-write must not interleave, as torch locks each
// AccumulateGrad. Striped by the leaf's metadata address: no mutex per tensor.
std::mutex& accumulate_mutex(const AutogradMeta* m) {
  static std::mutex stripes[64];
  return stripes[(reinterpret_cast<uintptr_t>(m) >> 6) % 64];
}
}  // namespace

TensorList AccumulateGrad::apply(TensorList&& grads) {
  Tensor& g = grads[0];
  AutogradMeta& m = variable->ensure_autograd_meta();
  if (!g.defined()) return {};
  if (!m.hooks.empty()) g = run_hooks(g, m.hooks);  // Note [Tensor hooks]
  std::lock_guard<std::mutex> lock(accumulate_mutex(&m));
  if (!m.grad.defined()) {
    // Steal the buffer only when nothing else can see it; otherwise later in-place updates of
    // .grad (optimizers, clipping) would write into a tensor shared with another leaf.
    bool unique = g->use_count() == 1 && g->storage()->use_count() == 1 && g.is_contiguous();
    m.grad = unique ? g : ops::clone(g);
  } else if (!GradMode::is_enabled() && m.grad.is_contiguous() && !m.grad.requires_grad()) {
    // In place, as torch's AccumulateGrad: .grad keeps its storage from step to step, so what holds it
    // (an optimizer's cached chunk table, a captured CUDA graph, a user's reference) stays valid. A
    // strided or expanded .grad someone assigned gets the out-of-place sum below instead.
    ops::add_(m.grad, g, Scalar(1));
  } else {
    // Grad mode is off in the engine, except under create_graph, where the sum records its history
    // as torch's out-of-place accumulation does (Note [Double backward]).
    m.grad = ops::add(m.grad, g, Scalar(1));
  }
  return {};
}

}  // namespace vt::autograd
