#pragma once
// Loading operator plugins: shared libraries written against the C ABI of plugin/vt_plugin.h.
#include <string>
#include <vector>

namespace vt::plugin {

// Note [Plugin ops]
// A plugin is a shared library exporting vt_plugin_abi_version and vt_plugin_init (vt_plugin.h, a
// C header: a plugin needs no vibetensor C++ headers and no matching compiler). load_library:
// 1. dlopen (RTLD_NOW | RTLD_LOCAL) and both symbols found, else a clear error;
// 2. the ABI version checked: the major must equal the host's and the minor must not exceed it
//    (the structs only grow, each with its size first, so an older plugin's structs still read);
// 3. vt_plugin_init called with the host table; each register_op is validated at once (schema
//    syntax, a namespace of the plugin's own, argument types Tensor/float/int/bool, Tensor results,
//    a kernel, a name not taken) and kept pending, nothing reaching the dispatcher yet;
// 4. after a successful init, the backward ops named are resolved within the plugin and their
//    arity checked; only then are the schemas defined and the kernels registered, all at once, so a
//    plugin that fails anywhere (a bad op, an init that returns an error or throws) leaves no op
//    behind and its library is closed. Ops are never unloaded: a registered op's library stays open.
// A plugin op is an op of the dispatcher like a built-in one, reached through the boxed path
// (Dispatcher::call_boxed), so the dispatch policies and probes apply to it: its CPU and CUDA
// kernels read the arguments as DLPack tensors plus doubles, results are allocated by the host as
// the op's infer function says (by default like the first tensor argument), a CUDA kernel gets the
// current stream, and an error status raises a Python exception of the matching kind with the
// plugin's message. With a backward op it joins autograd (Note [Plugin autograd], plugin_op.cpp).
// Loads are serialized by one mutex; calls take none.

// Loads the plugin at `path` and returns the names of the ops it registered ("myplug::scale", ...).
std::vector<std::string> load_library(const std::string& path);

// The plugins loaded so far: (path, op names), in load order.
std::vector<std::pair<std::string, std::vector<std::string>>> loaded_libraries();

}  // namespace vt::plugin
