// Every dispatcher op exposed to Python through one generic boxed caller driven by its schema
// (the way torch's Python argument parser reads native_functions.yaml).
#include "dispatch/dispatcher.h"
#include "python/bindings.h"

namespace vt::python {

namespace {

std::string type_name_of(nb::handle h) { return nb::cast<std::string>(nb::str(nb::handle((PyObject*)Py_TYPE(h.ptr())).attr("__name__"))); }

[[noreturn]] void bad_arg(const char* op, const char* arg, const std::string& expected, nb::handle got) {
  detail::throw_error(ErrorKind::Type, op, "(): argument '", arg, "' must be ", expected, ", not ", type_name_of(got));
}

bool is_int(nb::handle h) { return PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr()); }

// A Python int as int64: a RuntimeError naming the value when it does not fit (Note [Shape overflow]).
int64_t int64_of(nb::handle h, const char* op, const char* arg) {
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
  if (overflow)
    detail::throw_error(ErrorKind::Runtime, op, "(): argument '", arg, "' is ", nb::str(h).c_str(),
                        ", which does not fit in int64 (expected a value in [-2^63, 2^63 - 1])");
  if (v == -1 && PyErr_Occurred()) throw nb::python_error();
  return int64_t(v);
}

int64_t as_int(nb::handle h, const char* op, const char* arg) {
  if (is_int(h)) return int64_of(h, op, arg);
  // Python integers held in numpy scalars and 0-d integer tensors are accepted too.
  if (PyIndex_Check(h.ptr()) && !PyBool_Check(h.ptr())) return int64_of(nb::int_(h), op, arg);
  bad_arg(op, arg, "int", h);
}

IntList as_int_list(nb::handle h, const char* op, const char* arg) {
  if (is_int(h)) return {int64_of(h, op, arg)};
  if (!PySequence_Check(h.ptr()) || nb::isinstance<nb::str>(h) || nb::isinstance<Tensor>(h))
    bad_arg(op, arg, "a tuple of ints", h);
  IntList out;
  for (nb::handle item : nb::borrow<nb::sequence>(h)) out.push_back(as_int(item, op, arg));
  return out;
}

}  // namespace

IValue ivalue_from_python(nb::handle h, const std::string& type, const char* op, const char* arg) {
  bool optional = type.back() == '?';
  if (optional && h.is_none()) return IValue();
  std::string base = optional ? type.substr(0, type.size() - 1) : type;
  PyObject* o = h.ptr();
  if (base == "Tensor") {
    Tensor t;
    if (operand_from_python(h, t)) return IValue(t);
    bad_arg(op, arg, "Tensor", h);
  }
  if (base == "Tensor[]") {
    if (!PySequence_Check(o) || nb::isinstance<Tensor>(h)) bad_arg(op, arg, "a sequence of Tensors", h);
    TensorList l;
    for (nb::handle item : nb::borrow<nb::sequence>(h)) {
      if (!nb::isinstance<Tensor>(item)) bad_arg(op, arg, "a sequence of Tensors", item);
      l.push_back(nb::cast<Tensor>(item));
    }
    return IValue(std::move(l));
  }
  if (base == "int") return IValue(as_int(h, op, arg));
  if (base == "int[]") return IValue(as_int_list(h, op, arg));
  if (base == "float") {
    if (PyFloat_Check(o) || is_int(h)) return IValue(nb::cast<double>(h));
    bad_arg(op, arg, "float", h);
  }
  if (base == "bool") {
    if (PyBool_Check(o)) return IValue(o == Py_True);
    bad_arg(op, arg, "bool", h);
  }
  if (base == "Scalar") {
    if (PyBool_Check(o)) return IValue(Scalar(o == Py_True));
    if (is_int(h)) return IValue(Scalar(int64_of(h, op, arg)));
    if (PyFloat_Check(o)) return IValue(Scalar(nb::cast<double>(h)));
    if (nb::isinstance<Tensor>(h)) {
      const Tensor& t = nb::cast<const Tensor&>(h);
      VT_CHECK_VALUE(t.numel() == 1, op, "(): argument '", arg, "' must be a number or a one-element tensor, got a tensor of shape ",
                     shape_str(t.sizes()));
      nb::object item = h.attr("item")();
      return ivalue_from_python(item, "Scalar", op, arg);
    }
    bad_arg(op, arg, "a number", h);
  }
  if (base == "ScalarType") {
    if (nb::isinstance<DType>(h)) return IValue(nb::cast<DType>(h));
    bad_arg(op, arg, "a vibetensor dtype (e.g. vt.float32)", h);
  }
  if (base == "Device") {
    if (nb::isinstance<Device>(h)) return IValue(nb::cast<Device>(h));
    if (nb::isinstance<nb::str>(h)) return IValue(Device::parse(nb::cast<std::string>(h)));
    bad_arg(op, arg, "a device or a string such as 'cpu' or 'cuda:0'", h);
  }
  if (base == "str") {
    if (nb::isinstance<nb::str>(h)) return IValue(nb::cast<std::string>(h));
    bad_arg(op, arg, "str", h);
  }
  detail::throw_error(ErrorKind::Runtime, op, ": unsupported schema type ", type);
}

nb::object ivalue_to_python(IValue&& v) {
  if (v.is_none()) return nb::none();
  if (v.is<Tensor>()) {  // an undefined result (a gradient not asked for, rms_norm's mean) is None
    Tensor& t = v.get<Tensor>();
    return t.defined() ? nb::cast(std::move(t)) : nb::none();
  }
  if (v.is<TensorList>()) {
    nb::list l;
    for (auto& t : v.get<TensorList>()) l.append(nb::cast(t));
    return l;
  }
  if (v.is<int64_t>()) return nb::cast(v.get<int64_t>());
  if (v.is<double>()) return nb::cast(v.get<double>());
  if (v.is<bool>()) return nb::cast(v.get<bool>());
  VT_ERROR("cannot convert op result to Python");
}

namespace {

// A callable for one op: parses (*args, **kwargs) against the schema, boxes them and calls the
// dispatcher's boxed path.
struct OpCaller {
  OperatorEntry* op;

  nb::object call(nb::args args, nb::kwargs kwargs) const {
    const Schema& s = op->schema;
    const char* name = s.name.c_str() + (s.name.rfind("::") == std::string::npos ? 0 : s.name.rfind("::") + 2);
    size_t nargs = args.size();
    size_t npos = 0;
    for (auto& a : s.args) npos += !a.kwarg_only;
    VT_CHECK_TYPE(nargs <= npos, name, "() takes ", npos, " positional arguments but ", nargs, " were given");
    Stack stack;
    stack.reserve(s.args.size());
    size_t used_kwargs = 0;
    for (size_t i = 0; i < s.args.size(); ++i) {
      const SchemaArg& a = s.args[i];
      nb::handle h;
      bool from_kw = false;
      if (i < nargs) {
        h = args[i];
      } else if (kwargs.size() && kwargs.contains(a.name.c_str())) {
        h = kwargs[a.name.c_str()];
        from_kw = true;
      }
      if (h.is_valid()) {
        if (i < nargs && kwargs.size() && kwargs.contains(a.name.c_str()))
          detail::throw_error(ErrorKind::Type, name, "() got multiple values for argument '", a.name, "'");
        used_kwargs += from_kw;
        stack.push_back(ivalue_from_python(h, a.type, name, a.name.c_str()));
      } else {
        VT_CHECK_TYPE(a.has_default, name, "() missing required argument '", a.name, "' (", a.type, ")");
        stack.push_back(a.default_value);
      }
    }
    if (used_kwargs != kwargs.size()) {
      for (auto [k, v] : kwargs) {
        std::string key = nb::cast<std::string>(k);
        bool known = false;
        for (auto& a : s.args) known |= a.name == key;
        VT_CHECK_TYPE(known, name, "() got an unexpected keyword argument '", key, "'");
      }
    }
    bool release = false;  // Note [GIL around CPU kernels]
    for (const IValue& v : stack) {
      if (v.is<Tensor>()) release |= releases_gil(v.get<Tensor>());
      else if (v.is<TensorList>())
        for (const Tensor& t : v.get<TensorList>()) release |= releases_gil(t);
    }
    maybe_without_gil(release, [&] { Dispatcher::get().call_boxed(*op, stack); });
    if (stack.size() == 1) return ivalue_to_python(std::move(stack[0]));
    nb::list out;
    for (auto& v : stack) out.append(ivalue_to_python(std::move(v)));
    return nb::tuple(out);
  }
};

}  // namespace

void bind_ops(nb::module_& m) {
  nb::class_<OpCaller>(m, "OpCaller")
      .def("__call__", &OpCaller::call)
      .def_prop_ro("schema", [](const OpCaller& c) { return c.op->schema.text; })
      .def_prop_ro("name", [](const OpCaller& c) { return c.op->name; })
      .def("__repr__", [](const OpCaller& c) { return "<vibetensor op " + c.op->schema.text + ">"; });
  nb::module_ ops = m.def_submodule("_ops", "every dispatcher op, called through the boxed path");
  for (OperatorEntry* e : Dispatcher::get().operators()) {
    std::string short_name = e->name.substr(e->name.rfind("::") + 2);
    ops.attr(short_name.c_str()) = nb::cast(OpCaller{e});
  }
}

}  // namespace vt::python
