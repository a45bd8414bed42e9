// vibetensor.ops' C++ side: loading operator plugins and calling their ops from Python (Note [Plugin
// ops] in plugin/loader.h). A plugin op's Python caller is a plain CPython vectorcall function, as
// the catalogue ops' are: its arguments are read by the op's schema onto a Stack and the op runs
// through Dispatcher::call_boxed.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>

#include "dispatch/dispatcher.h"
#include "plugin/loader.h"
#include "python/call_arguments.h"

namespace vt::python {
namespace {

constexpr const char* kCapsule = "vibetensor.plugin_op";

// The value passed for schema argument `a` as the IValue a plugin kernel reads.
IValue plugin_argument(nb::handle h, const SchemaArg& a, const char* op) {
  const char* arg = a.name.c_str();
  if (a.type == "Tensor") {
    Tensor t;
    if (operand_from_python(h, t)) return IValue(std::move(t));
    bad_arg(op, arg, "Tensor", h);
  }
  if (a.type == "float") {
    if (PyFloat_Check(h.ptr())) return IValue(PyFloat_AS_DOUBLE(h.ptr()));
    if (is_int(h)) return IValue(double(int64_of(h, op, arg)));
    bad_arg(op, arg, "float", h);
  }
  if (a.type == "int") return IValue(as_int(h, op, arg));
  if (a.type == "bool") {
    if (PyBool_Check(h.ptr())) return IValue(h.ptr() == Py_True);
    bad_arg(op, arg, "bool", h);
  }
  detail::throw_error(ErrorKind::NotImplemented, op, "(): argument '", arg, "' has type ", a.type,
                      ", which vt.ops callers do not take (Tensor, float, int, bool)");
}

PyObject* call_op(PyObject* capsule, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) noexcept {
  try {
    auto* op = static_cast<OperatorEntry*>(PyCapsule_GetPointer(capsule, kCapsule));
    if (!op) return nullptr;
    const Schema& s = op->schema;
    const char* name = s.name.c_str();
    constexpr size_t kInline = 8;
    PyObject* inline_given[kInline] = {};
    std::vector<PyObject*> more;
    if (s.args.size() > kInline) more.assign(s.args.size(), nullptr);
    PyObject** given = s.args.size() > kInline ? more.data() : inline_given;
    bind_arguments(s, name, nullptr, args, nargs, kwnames, given);
    Stack stack;
    stack.reserve(s.args.size());
    bool release = false;  // Note [GIL around CPU kernels]
    for (size_t i = 0; i < s.args.size(); ++i) {
      const SchemaArg& a = s.args[i];
      if (given[i]) stack.push_back(plugin_argument(given[i], a, name));
      else if (a.has_default) stack.push_back(a.default_value);
      else detail::throw_error(ErrorKind::Type, name, "() missing required argument '", a.name, "' (", a.type, ")");
      if (stack.back().is<Tensor>()) release |= releases_gil(stack.back().get<Tensor>());
    }
    maybe_without_gil(release, [&] { Dispatcher::get().call_boxed(*op, stack); });
    if (stack.size() == 1) return nb::cast(std::move(stack[0].get<Tensor>())).release().ptr();
    nb::list out;
    for (IValue& v : stack) out.append(nb::cast(std::move(v.get<Tensor>())));
    return PyList_AsTuple(out.ptr());
  } catch (...) {
    set_python_error();
    return nullptr;
  }
}

}  // namespace

void bind_plugins(nb::module_& m) {
  m.def("_load_plugin", &plugin::load_library, nb::arg("path"));
  m.def("_loaded_plugins", &plugin::loaded_libraries);
  // The Python caller of a defined op whose arguments are Tensor/float/int/bool (every plugin op),
  // or None when no op has that name. Made once per op by vibetensor.ops, which caches it.
  m.def("_plugin_op", [](const std::string& name) -> nb::object {
    OperatorEntry* e = Dispatcher::get().find_defined(name);
    if (!e) return nb::none();
    // One method definition per op, for its __name__ and __doc__; ops live for the process.
    auto* def = new PyMethodDef{strdup(e->schema.name.c_str()), (PyCFunction)(void (*)())&call_op,
                                METH_FASTCALL | METH_KEYWORDS, strdup(e->schema.text.c_str())};
    nb::object capsule = nb::steal(PyCapsule_New(e, kCapsule, nullptr));
    return nb::steal(PyCFunction_NewEx(def, capsule.ptr(), nullptr));
  }, nb::arg("name"));
}

}  // namespace vt::python
