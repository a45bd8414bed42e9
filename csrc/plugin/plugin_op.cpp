// See plugin_op.h and Note [Plugin ops] in plugin/loader.h.
#include "plugin/plugin_op.h"

#include <cstring>
#include <optional>
#include <vector>

#include "autograd/node.h"
#include "plugin/dlpack_view.h"
#if VT_CUDA
#include "cuda/device.h"
#include "cuda/stream.h"
#endif

namespace vt::plugin {
namespace {

ErrorKind kind_of(vt_status s) {
  switch (s) {
    case VT_STATUS_INVALID_ARGUMENT: return ErrorKind::Value;
    case VT_STATUS_UNSUPPORTED: return ErrorKind::NotImplemented;
    default: return ErrorKind::Runtime;
  }
}

// Runs a plugin function, keeping a C++ exception thrown out of it on this side of the ABI, and
// raises the error it reported for a non-OK status.
template <class F>
void call_plugin(const PluginOp& op, const char* what, vt_call& call, F f) {
  vt_status status;
  try {
    status = f();
  } catch (...) {
    VT_ERROR(op.schema.name, ": the ", what, " of plugin ", op.library,
             " threw a C++ exception across the C ABI (a plugin must return a status instead)");
  }
  if (status == VT_STATUS_OK) return;
  call.error[call.error_size - 1] = '\0';
  detail::throw_error(kind_of(status), op.schema.name, ": the ", what, " of plugin ", op.library, " failed (status ",
                      int(status), "): ", call.error[0] ? call.error : "no message given");
}

// The op's arguments at the top of the stack, split as a plugin kernel takes them.
struct Arguments {
  std::vector<Tensor> tensors;
  std::vector<double> scalars;
};

Arguments read_arguments(const PluginOp& op, const Stack& s, size_t base) {
  Arguments a;
  for (size_t i = 0; i < op.schema.args.size(); ++i) {
    const IValue& v = s[base + i];
    const SchemaArg& arg = op.schema.args[i];
    if (op.tensor_arg[i]) {
      VT_CHECK_VALUE(v.is<Tensor>() && v.get<Tensor>().defined(), op.schema.name, ": argument '", arg.name,
                     "' must be a tensor");
      const Tensor& t = v.get<Tensor>();
      VT_CHECK_VALUE(a.tensors.empty() || t.device() == a.tensors[0].device(), op.schema.name,
                     ": expected every tensor on ", a.tensors.empty() ? t.device() : a.tensors[0].device(),
                     ", got argument '", arg.name, "' on ", t.device());
      a.tensors.push_back(t);
    } else if (v.is<double>()) {
      a.scalars.push_back(v.get<double>());
    } else if (v.is<int64_t>()) {
      a.scalars.push_back(double(v.get<int64_t>()));
    } else if (v.is<bool>()) {
      a.scalars.push_back(v.get<bool>() ? 1.0 : 0.0);
    } else {
      detail::throw_error(ErrorKind::Type, op.schema.name, ": argument '", arg.name, "' must be ", arg.type);
    }
  }
  return a;
}

// The CPU or CUDA kernel (the dispatcher chose the key by the arguments' device): results allocated
// as the infer function (or the first tensor) says, the kernel called on DLPack views, the
// arguments replaced by the results on the stack.
void device_kernel(void* ctx, Stack& s) {
  const PluginOp& op = *static_cast<const PluginOp*>(ctx);
  const size_t base = s.size() - op.schema.args.size();
  Arguments a = read_arguments(op, s, base);
  const Device dev = a.tensors[0].device();
  vt_kernel_fn fn = dev.is_cuda() ? op.cuda : op.cpu;
  if (!fn)
    detail::throw_error(ErrorKind::NotImplemented, op.schema.name, ": plugin ", op.library, " has no ",
                        dev.is_cuda() ? "CUDA" : "CPU", " kernel");
  std::vector<DLView> in(a.tensors.size());
  std::vector<DLTensor> in_dl;
  for (size_t i = 0; i < a.tensors.size(); ++i) describe(a.tensors[i], in[i], op.schema.name), in_dl.push_back(in[i].dl);
  char error[512] = {};
  vt_call call{sizeof(vt_call), int32_t(in_dl.size()), in_dl.data(), int32_t(a.scalars.size()), a.scalars.data(),
               op.n_results, nullptr, nullptr, error, sizeof(error)};
  std::vector<vt_output_spec> specs(op.n_results);
  if (op.infer) {
    call_plugin(op, "infer function", call, [&] { return op.infer(&call, specs.data()); });
  } else {
    for (vt_output_spec& spec : specs) {
      spec.ndim = in[0].dl.ndim;
      std::memcpy(spec.shape, in[0].shape, sizeof(spec.shape));
      spec.dtype = in[0].dl.dtype;
    }
  }
  std::vector<Tensor> outs;
  std::vector<DLView> out(specs.size());
  std::vector<DLTensor> out_dl;
  for (size_t i = 0; i < specs.size(); ++i) {
    const vt_output_spec& spec = specs[i];
    VT_CHECK_VALUE(spec.ndim >= 0 && spec.ndim <= VT_PLUGIN_MAX_DIMS, op.schema.name, ": the plugin's infer function "
                   "gave result ", i, " ", spec.ndim, " dims (expected 0 to ", VT_PLUGIN_MAX_DIMS, ")");
    DimVector shape;
    for (int d = 0; d < spec.ndim; ++d) {
      VT_CHECK_VALUE(spec.shape[d] >= 0, op.schema.name, ": the plugin's infer function gave result ", i,
                     " a negative size ", spec.shape[d], " at dim ", d);
      shape.push_back(spec.shape[d]);
    }
    outs.push_back(empty_tensor(shape, dtype_of(spec.dtype, op.schema.name), dev));
    describe(outs.back(), out[i], op.schema.name);
    out_dl.push_back(out[i].dl);
  }
  call.outputs = out_dl.data();
#if VT_CUDA
  std::optional<cuda::DeviceGuard> guard;
  if (dev.is_cuda()) {
    guard.emplace(dev.index);
    call.stream = cuda::current_stream(dev.index).handle();
  }
#endif
  call_plugin(op, dev.is_cuda() ? "CUDA kernel" : "CPU kernel", call, [&] { return fn(&call); });
  s.resize(base);
  for (Tensor& t : outs) s.emplace_back(std::move(t));
}

// Note [Plugin autograd]
// An op registered with a backward op records this node: it saves the op's arguments (tensors as
// SavedVariables) and calls the backward op through the dispatcher with one gradient per result
// followed by those arguments; the backward op's results are the gradients of the tensor
// arguments, checked against their shapes and dtypes.
struct PluginBackward : autograd::Node {
  const PluginOp* op = nullptr;
  std::vector<autograd::SavedVariable> tensors;
  std::vector<autograd::InputMeta> metas;
  Stack args;  // the forward's arguments, tensors left as None (they are in `tensors`)
  std::string name() const override { return op->schema.name + "Backward"; }
  void release_variables() override {
    for (auto& t : tensors) t.reset();
  }
  TensorList apply(TensorList&& grads) override {
    Stack s;
    for (Tensor& g : grads) s.emplace_back(std::move(g));
    size_t ti = 0;
    for (size_t i = 0; i < args.size(); ++i)
      s.push_back(op->tensor_arg[i] ? IValue(tensors[ti++].unpack(this)) : args[i]);
    // create_graph: the backward op has no derivative of its own (plugins register none), so a gradient
    // that needs one is refused rather than returned without its second-order terms (Note [Double backward]).
    if (GradMode::is_enabled())
      for (const IValue& v : s)
        if (v.is<Tensor>() && v.get<Tensor>().defined() && v.get<Tensor>().requires_grad())
          detail::throw_error(ErrorKind::NotImplemented, op->backward, ": differentiating through a plugin's backward "
                              "op is not supported (create_graph=True needs its derivative, which plugins do not register)");
    Dispatcher::get().call_boxed(*op->backward_op->entry, s);
    TensorList r;
    for (size_t i = 0; i < s.size(); ++i) {
      const Tensor& g = s[i].get<Tensor>();
      const autograd::InputMeta& m = metas[i];
      VT_CHECK(g.dtype() == m.dtype && DimVector(g.sizes()) == m.shape, op->backward, " returned a gradient of ",
               g.dtype(), " ", shape_str(g.sizes()), " for tensor argument ", i, " of ", op->schema.name,
               "; expected ", m.dtype, " ", shape_str(m.shape));
      r.push_back(g);
    }
    return r;
  }
};

void autograd_kernel(void* ctx, Stack& s) {
  const PluginOp& op = *static_cast<const PluginOp*>(ctx);
  const size_t base = s.size() - op.schema.args.size();
  auto node = std::make_shared<PluginBackward>();
  node->op = &op;
  TensorList inputs;
  for (size_t i = base; i < s.size(); ++i) {
    if (op.tensor_arg[i - base] && s[i].is<Tensor>()) {
      const Tensor& t = s[i].get<Tensor>();
      VT_CHECK_VALUE(t.defined(), op.schema.name, ": argument '", op.schema.args[i - base].name, "' must be a tensor");
      inputs.push_back(t);
      node->tensors.emplace_back(t, false);
      node->metas.push_back({DimVector(t.sizes()), t.dtype(), t.device()});
      node->args.emplace_back();
    } else {
      node->args.push_back(s[i]);
    }
  }
  node->next_edges = autograd::collect_next_edges(inputs);
  {
    NoGradGuard no_grad;  // the device kernel records nothing
    device_kernel(ctx, s);
  }
  TensorList outs;
  for (size_t i = base; i < s.size(); ++i) outs.push_back(s[i].get<Tensor>());
  autograd::set_history(node, outs);  // the stack's tensors share these impls: they carry the history
}

KernelEntry entry_for(PluginOp& op, BoxedAdapterFn boxed) {
  KernelEntry e;
  e.unboxed = &op;  // not a function: these kernels are reached only through their boxed adapter
  e.boxed = boxed;
  for (const SchemaArg& a : op.schema.args) e.arg_types.push_back(a.type.c_str());
  e.return_type = op.returns_type.c_str();
  return e;
}

}  // namespace

void register_kernels(PluginOp& op) {
  Dispatcher& d = Dispatcher::get();
  const std::string& name = op.schema.name;
  if (op.cpu) d.register_kernel(name, DispatchKey::CPU, entry_for(op, device_kernel));
  if (op.cuda) d.register_kernel(name, DispatchKey::CUDA, entry_for(op, device_kernel));
  if (op.backward_op) d.register_kernel(name, DispatchKey::Autograd, entry_for(op, autograd_kernel));
  op.entry = &d.entry(name);
}

}  // namespace vt::plugin
