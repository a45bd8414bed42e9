#pragma once
// The backward engine. See Note [Backward engine] in engine.cpp.
#include "autograd/node.h"

namespace vt::autograd {

struct BackwardOptions {
  bool keep_graph = false;
  // The formulas run with grad mode on and record the graph of the gradients (Note [Double backward]).
  bool create_graph = false;
  // autograd.grad: return gradients of `inputs` instead of accumulating into leaves' .grad.
  TensorList inputs;
  bool allow_unused = false;
  // Set by the Python binding under autograd.gil=held (see Note [Backward engine]).
  bool caller_holds_gil = false;
};

// outputs[i] receives grad_outputs[i] (undefined: ones, only for one-element outputs).
TensorList run_backward(const TensorList& outputs, const TensorList& grad_outputs, const BackwardOptions& opts);

}  // namespace vt::autograd
