#pragma once
// The autograd graph: a Node per differentiable op application, Edges to the nodes that
// produced its inputs, and SavedVariables checked against in-place modification.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "dispatch/ivalue.h"

namespace vt::autograd {

struct Node;

struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
  bool valid() const { return bool(fn); }
};

// What a gradient flowing into a node must look like (the forward output it belongs to).
struct InputMeta {
  DimVector shape;
  DType dtype;
  Device device;
};

uint64_t next_sequence_nr();

// Note [Tensor hooks]
// tensor.register_hook(fn) runs fn on the tensor's gradient during backward; what fn returns (if not
// None) replaces it. A non-leaf's gradient is an input of its grad_fn, so its hooks are the grad_fn's
// pre_hooks, run on that input slot before the node applies (and before autograd.grad captures it). A
// leaf's gradient goes to its AccumulateGrad node, which is cached only weakly, so a leaf's hooks live in
// its AutogradMeta and AccumulateGrad runs them before accumulating. retain_grad() is a pre_hook too: it
// stores the gradient in a slot shared with the tensor's AutogradMeta (retained_grad), so the node holds
// no reference to the tensor (no cycle). Hooks written in Python need the GIL: a graph with one runs as a
// graph with Python nodes does (Note [Backward engine]).
struct PreHook {
  uint32_t slot;
  int64_t id;  // for RemovableHandle.remove(); -1: retain_grad's
  GradHook fn;
  bool needs_gil;
};

struct Node : std::enable_shared_from_this<Node> {
  std::vector<Edge> next_edges;     // one per differentiable forward input
  std::vector<InputMeta> input_meta;  // one per forward output (= gradient input of this node)
  uint64_t sequence_nr = next_sequence_nr();
  std::vector<PreHook> pre_hooks;   // Note [Tensor hooks]

  virtual ~Node() = default;
  // grads[i] is the gradient of forward output i (zeros where none flowed). Returns one
  // gradient per next edge; an undefined tensor means "no gradient".
  virtual TensorList apply(TensorList&& grads) = 0;
  virtual std::string name() const = 0;
  virtual void release_variables() {}
  virtual bool is_accumulate_grad() const { return false; }
  // Python nodes (and nodes with Python hooks) need the GIL; the engine asks so it can tell an
  // autograd.gil=released run.
  virtual bool needs_gil() const {
    for (const PreHook& h : pre_hooks)
      if (h.needs_gil) return true;
    return false;
  }
};

// Runs the hooks on `grad` in order (Note [Tensor hooks]); each may replace it (same shape and dtype).
Tensor run_hooks(const Tensor& grad, const std::vector<std::pair<int64_t, GradHook>>& hooks);

// Note [Double backward]
// backward(create_graph=True) and autograd.grad(create_graph=True) run the formulas with grad mode
// on, so the ops they call record nodes and the gradients carry a graph of their own, which a
// second backward differentiates. Three things make that graph whole:
// - a saved output is kept as a detached alias (a node must not own its own output's history: a
//   reference cycle); unpacked with grad mode on, it gets its history back as output `output_nr`
//   of the node that saved it;
// - AccumulateGrad sums into .grad out of place, so the sum keeps both histories;
// - the backward kernels that formulas call (gelu_backward, softmax_backward, ...) have no
//   derivative of their own unless one is registered: the dispatcher refuses them when an input
//   requires grad under grad mode (a NotImplementedError naming the op), rather than returning a
//   gradient that silently drops second-order terms (Dispatcher: DispatchState::backward_op).

// A tensor saved for backward; unpack() fails clearly if it was modified in place since or
// freed by an earlier backward without retain_graph. Outputs are saved as detached aliases so a
// node does not own its own output's history (no reference cycle); see Note [Double backward]
// for how unpack() gives it back.
class SavedVariable {
 public:
  SavedVariable() = default;
  // is_output: t is output `output_nr` of the node that saves it.
  SavedVariable(const Tensor& t, bool is_output, uint32_t output_nr = 0);
  Tensor unpack(const Node* owner) const;
  void reset() { data_ = Tensor(); released_ = true; }
  bool defined() const { return data_.defined() || released_; }

 private:
  Tensor data_;
  uint64_t version_ = 0;
  uint32_t output_nr_ = 0;
  bool is_output_ = false;
  bool was_defined_ = false;
  bool released_ = false;
};

// Edges for forward inputs: the grad_fn of a non-leaf, the AccumulateGrad of a leaf that
// requires grad, an invalid edge otherwise.
Edge gradient_edge(const Tensor& t);
std::vector<Edge> collect_next_edges(std::initializer_list<const Tensor*> inputs);
std::vector<Edge> collect_next_edges(const TensorList& inputs);
// Makes node the grad_fn of outputs (in order) and records their metadata.
void set_history(const std::shared_ptr<Node>& node, std::initializer_list<Tensor*> outputs);
void set_history(const std::shared_ptr<Node>& node, TensorList& outputs);

// True when an op with these inputs must record a node.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);

// Accumulates into a leaf's .grad.
struct AccumulateGrad : Node {
  explicit AccumulateGrad(Tensor leaf) : variable(std::move(leaf)) {}
  TensorList apply(TensorList&& grads) override;
  std::string name() const override { return "AccumulateGrad"; }
  bool is_accumulate_grad() const override { return true; }
  bool needs_gil() const override;  // the leaf's hooks are Python's
  Tensor variable;
};

}  // namespace vt::autograd
