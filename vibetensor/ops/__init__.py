"""vt.ops: operator plugins, in torch.ops' spelling (Note [Plugin ops] in csrc/plugin/loader.h).

    vt.ops.load_library("build/libmyplug.so")  # the plugin's ops join the dispatcher, all or none
    y = vt.ops.myplug.scale(x, 2.0)            # called like a built-in op (autograd, policies, probes)
    vt.ops.include_dir()                       # the folder of vt_plugin.h, to build a plugin against

A plugin is a shared library written against the C header vt_plugin.h (no vibetensor C++ headers, any
compiler): it exports vt_plugin_abi_version and vt_plugin_init, and registers ops by schema with a CPU
and/or CUDA kernel that reads DLPack tensors, an optional infer function for its results' shapes and an
optional backward op. examples/plugin/ has one; tests/test_plugins.py builds it with the system compiler.
Ops are never unloaded; loading a plugin whose op names are taken fails without registering anything.
"""
import os
import threading

from vibetensor import _C

__all__ = ["load_library", "loaded_libraries", "include_dir"]

_lock = threading.Lock()
_namespaces = {}


def load_library(path):
    """Loads the plugin at `path` and returns the names of the ops it registered. Raises (registering
    nothing) for a library that is not a plugin, an ABI it does not match, or any op it cannot register."""
    return list(_C._load_plugin(os.path.abspath(os.fspath(path))))


def loaded_libraries():
    """[(path, [op names])] of the plugins loaded in this process, in load order."""
    return [(path, list(names)) for path, names in _C._loaded_plugins()]


def include_dir():
    """The folder holding vt_plugin.h: the installed package's include/, or csrc/plugin of a source checkout."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for folder in (os.path.join(package, "include"), os.path.join(os.path.dirname(package), "csrc", "plugin")):
        if os.path.exists(os.path.join(folder, "vt_plugin.h")):
            return folder
    raise FileNotFoundError("vt_plugin.h is neither installed with vibetensor (vibetensor/include) nor in a source "
                            f"checkout beside it (csrc/plugin); looked under {package}")


class _Namespace:
    """vt.ops.<namespace>: its ops as attributes, each the op's Python caller (made once, then cached)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, op):
        if op.startswith("__"):
            raise AttributeError(op)
        fn = _C._plugin_op(f"{self._name}::{op}")
        if fn is None:
            loaded = ", ".join(n for _, names in loaded_libraries() for n in names) or "none"
            raise AttributeError(f"vt.ops.{self._name}.{op}: no op named {self._name}::{op} (plugin ops loaded: "
                                 f"{loaded}; vt.ops.load_library loads a plugin)")
        setattr(self, op, fn)
        return fn

    def __repr__(self):
        return f"<vt.ops namespace {self._name!r}>"


def __getattr__(name):  # vt.ops.<namespace> (PEP 562)
    if name.startswith("__"):
        raise AttributeError(name)
    with _lock:
        return _namespaces.setdefault(name, _Namespace(name))
