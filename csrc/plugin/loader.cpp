// See loader.h, Note [Plugin ops].
#include "plugin/loader.h"

#include <dlfcn.h>

#include <cstddef>
#include <memory>
#include <mutex>

#include "core/error.h"
#include "dispatch/dispatcher.h"
#include "plugin/plugin_op.h"

namespace vt::plugin {
namespace {

struct Registry {
  std::mutex mutex;  // one load at a time
  std::vector<std::unique_ptr<PluginOp>> ops;  // every registered op, for the process (never unloaded)
  std::vector<std::pair<std::string, std::vector<std::string>>> libraries;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: its ops' kernels may run during exit
  return *r;
}

// The host context of one vt_plugin_init call.
struct Pending {
  std::string library;
  std::vector<std::unique_ptr<PluginOp>> ops;
  std::string error;  // the first refusal, or the plugin's own message
};

// Whether a plugin's struct of `size` bytes has the field at `offset` (older plugins' structs are shorter).
bool has_field(uint32_t size, size_t offset, size_t field_size) { return size >= offset + field_size; }

std::unique_ptr<PluginOp> validated(const Pending& p, const vt_op_def& def) {
  VT_CHECK_VALUE(has_field(def.size, offsetof(vt_op_def, infer), sizeof(def.infer)),
                 "register_op: a vt_op_def of ", def.size, " bytes is too short (it starts with its own size)");
  VT_CHECK_VALUE(def.schema, "register_op: the schema is NULL");
  auto op = std::make_unique<PluginOp>();
  op->library = p.library;
  op->schema = Schema::parse(def.schema);
  const std::string& name = op->schema.name;
  const size_t colons = name.find("::");
  VT_CHECK_VALUE(colons != std::string::npos && colons > 0, "register_op: ", name,
                 ": expected a name of the form namespace::op");
  VT_CHECK_VALUE(name.compare(0, colons, "vt") != 0, "register_op: ", name,
                 ": the namespace vt is vibetensor's own; a plugin uses its own namespace");
  for (const SchemaArg& a : op->schema.args) {
    VT_CHECK_VALUE(a.type == "Tensor" || a.type == "float" || a.type == "int" || a.type == "bool", "register_op: ",
                   name, ": argument '", a.name, "' has type ", a.type, "; plugin ops take Tensor, float, int and bool");
    op->tensor_arg.push_back(a.type == "Tensor");
    op->n_tensor_args += a.type == "Tensor";
  }
  VT_CHECK_VALUE(op->n_tensor_args > 0, "register_op: ", name, ": expected at least one Tensor argument (its device "
                 "picks the kernel)");
  VT_CHECK_VALUE(!op->schema.returns.empty(), "register_op: ", name, ": expected at least one Tensor result");
  for (const std::string& r : op->schema.returns)
    VT_CHECK_VALUE(r == "Tensor", "register_op: ", name, ": has a result of type ", r, "; plugin ops return Tensors");
  op->n_results = int(op->schema.returns.size());
  op->returns_type = op->schema.returns_type();
  op->cpu = def.cpu;
  op->cuda = def.cuda;
  op->infer = def.infer;
  if (has_field(def.size, offsetof(vt_op_def, backward), sizeof(def.backward)) && def.backward)
    op->backward = def.backward;
  VT_CHECK_VALUE(op->cpu || op->cuda, "register_op: ", name, ": expected a CPU or a CUDA kernel, got neither");
  VT_CHECK_VALUE(!Dispatcher::get().find_defined(name), "register_op: ", name, " is already defined");
  for (const auto& other : p.ops)
    VT_CHECK_VALUE(other->schema.name != name, "register_op: ", name, " is registered twice");
  return op;
}

vt_status host_register_op(void* context, const vt_op_def* def) noexcept {
  auto* p = static_cast<Pending*>(context);
  try {
    VT_CHECK_VALUE(def, "register_op: the op definition is NULL");
    p->ops.push_back(validated(*p, *def));
    return VT_STATUS_OK;
  } catch (const std::exception& e) {
    if (p->error.empty()) p->error = e.what();
    return VT_STATUS_INVALID_ARGUMENT;
  }
}

void host_set_error(void* context, const char* message) noexcept {
  auto* p = static_cast<Pending*>(context);
  if (message && p->error.empty()) p->error = message;
}

// Resolves each backward op among the plugin's own and checks its arguments (one gradient per
// result, then the op's arguments) and results (one gradient per tensor argument).
void link_backward_ops(Pending& p) {
  for (auto& op : p.ops) {
    if (op->backward.empty()) continue;
    const PluginOp* b = nullptr;
    for (const auto& other : p.ops)
      if (other->schema.name == op->backward) b = other.get();
    VT_CHECK_VALUE(b, op->schema.name, ": its backward op ", op->backward, " is not an op of this plugin");
    VT_CHECK_VALUE(b->schema.args.size() == size_t(op->n_results) + op->schema.args.size() &&
                       b->n_results == op->n_tensor_args,
                   op->schema.name, ": its backward op ", op->backward, " must take ", op->n_results,
                   " gradient(s) then the op's ", op->schema.args.size(), " argument(s) and return ",
                   op->n_tensor_args, " gradient(s); its schema is ", b->schema.text);
    op->backward_op = b;
  }
}

std::string status_text(vt_status s) {
  switch (s) {
    case VT_STATUS_INVALID_ARGUMENT: return "VT_STATUS_INVALID_ARGUMENT";
    case VT_STATUS_UNSUPPORTED: return "VT_STATUS_UNSUPPORTED";
    case VT_STATUS_INTERNAL: return "VT_STATUS_INTERNAL";
    default: return "status " + std::to_string(int(s));
  }
}

}  // namespace

std::vector<std::string> load_library(const std::string& path) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    VT_ERROR("load_library: cannot load ", path, ": ", why ? why : "dlopen failed");
  }
  std::unique_ptr<void, int (*)(void*)> library(handle, dlclose);  // closed unless the load succeeds
  auto version = reinterpret_cast<vt_plugin_abi_version_fn>(dlsym(handle, "vt_plugin_abi_version"));
  auto init = reinterpret_cast<vt_plugin_init_fn>(dlsym(handle, "vt_plugin_init"));
  VT_CHECK_VALUE(version && init, "load_library: ", path, " is not a vibetensor plugin: it does not export ",
                 version ? "vt_plugin_init" : "vt_plugin_abi_version", " (see vt_plugin.h)");
  const uint32_t v = version();
  const uint32_t major = v >> 16, minor = v & 0xffff;
  VT_CHECK_VALUE(major == VT_PLUGIN_ABI_MAJOR && minor <= VT_PLUGIN_ABI_MINOR, "load_library: ", path,
                 " was built for plugin ABI ", major, ".", minor, "; this vibetensor has ABI ", VT_PLUGIN_ABI_MAJOR, ".",
                 VT_PLUGIN_ABI_MINOR, " (the major must match and the plugin's minor must not be newer): rebuild it "
                 "against this vibetensor's vt_plugin.h");
  Pending p{path, {}, {}};
  const vt_host host{sizeof(vt_host), VT_PLUGIN_ABI_MAJOR, VT_PLUGIN_ABI_MINOR, &p, &host_register_op, &host_set_error};
  vt_status status;
  try {
    status = init(&host);
  } catch (...) {
    VT_ERROR("load_library: ", path, ": vt_plugin_init threw a C++ exception across the C ABI (a plugin must return "
             "a status); nothing was registered");
  }
  if (status != VT_STATUS_OK)
    detail::throw_error(ErrorKind::Runtime, "load_library: ", path, ": vt_plugin_init returned ", status_text(status),
                        p.error.empty() ? "" : ": ", p.error, "; nothing was registered");
  VT_CHECK_VALUE(p.error.empty(), "load_library: ", path, ": ", p.error, "; nothing was registered");
  VT_CHECK_VALUE(!p.ops.empty(), "load_library: ", path, ": vt_plugin_init registered no op");
  link_backward_ops(p);
  // Validated: the library stays loaded and the ops live for the process from here on, before any reaches
  // the dispatcher, so no registered kernel can point into a closed library or a freed op.
  library.release();
  std::vector<PluginOp*> ops;
  for (auto& op : p.ops) {
    ops.push_back(op.get());
    r.ops.push_back(std::move(op));
  }
  std::vector<std::string> names;
  for (PluginOp* op : ops) {
    Dispatcher::get().define(op->schema.text);
    register_kernels(*op);
    names.push_back(op->schema.name);
  }
  r.libraries.emplace_back(path, names);
  return names;
}

std::vector<std::pair<std::string, std::vector<std::string>>> loaded_libraries() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.libraries;
}

}  // namespace vt::plugin
