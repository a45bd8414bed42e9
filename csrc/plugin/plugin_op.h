#pragma once
// An op registered by a plugin and the dispatcher kernels that call it. See Note [Plugin ops] in
// plugin/loader.h.
#include <string>
#include <vector>

#include "dispatch/dispatcher.h"
#include "plugin/vt_plugin.h"

namespace vt::plugin {

struct PluginOp {
  std::string library;  // the path it was loaded from, for messages
  Schema schema;
  std::string returns_type;  // schema.returns_type(), kept for the kernels' entries
  vt_kernel_fn cpu = nullptr, cuda = nullptr;
  vt_infer_fn infer = nullptr;
  std::string backward;  // "" or the name of the plugin op computing the gradients
  int n_tensor_args = 0, n_results = 0;
  std::vector<bool> tensor_arg;  // per schema argument: a Tensor (read per call without comparing type names)
  OperatorEntry* entry = nullptr;           // set when registered
  const PluginOp* backward_op = nullptr;    // set when registered, with `backward`
};

// Registers the CPU and CUDA kernels the plugin gave (boxed: they run through Dispatcher::call_boxed)
// and, with a backward op, an Autograd kernel. `op` must outlive the process (ops are never unloaded).
void register_kernels(PluginOp& op);

}  // namespace vt::plugin
