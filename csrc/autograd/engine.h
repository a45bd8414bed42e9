#pragma once
// The backward engine. See Note [Backward engine] in engine.cpp.
#include <functional>

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
  // Set with caller_holds_gil: runs its argument (the wait for autograd.gate=global) with the GIL released, so
  // that a thread waiting at the gate never holds the GIL the gate's holder may need (Note [Gate and GIL]).
  std::function<void(const std::function<void()>&)> wait_without_gil;
};

// outputs[i] receives grad_outputs[i] (undefined: ones, only for one-element outputs).
TensorList run_backward(const TensorList& outputs, const TensorList& grad_outputs, const BackwardOptions& opts);

// Note [Partial backward]
// grad() and backward(inputs=...) compute the gradients of chosen tensors only and must leave every other
// leaf's .grad alone. A node whose backward runs a backward of its own (activation checkpointing, Note
// [Activation checkpointing] in vibetensor/utils/checkpoint.py) would accumulate into every leaf it reaches,
// so it asks this and refuses, as torch's reentrant checkpoint does. True while the calling thread runs a node
// of such a task: the engine sets it around each node's apply, on whichever thread runs the node, so another
// thread's grad() does not count.
bool running_partial_backward();

// Note [Anomaly detection]
// torch.autograd.detect_anomaly / set_detect_anomaly: while on (with check_nan), the engine checks every
// gradient a node returns and raises "Function 'XBackward' returned nan values in its 0th output." at the
// first node that made a nan, instead of letting it spread to the leaves. The check is a reduction and a
// host read per gradient (a device sync on CUDA): a debugging mode, as torch's. One process-wide setting, as
// torch's; off, it costs one relaxed atomic load per node. torch also keeps each node's forward traceback to
// print with the error; vibetensor does not, so the message names the node only.
void set_anomaly_mode(bool enabled, bool check_nan);
bool anomaly_enabled();
bool anomaly_check_nan();

}  // namespace vt::autograd
