// Every catalogue op (op_list.h) exposed to Python: a caller generated per op reads
// (*args, **kwargs) by the op's schema into the op's C++ argument types and calls route()
// (Note [One route from Python]). Each op is a function (_C._ops.<name>) and a Tensor method
// descriptor (_C._op_methods[<name>]); both are plain CPython vectorcall callables, so a call
// costs no argument tuple or dict.
#include <tuple>
#include <type_traits>

#include "python/call_arguments.h"
#include "python/op_route.h"

namespace vt::python {

namespace {

IntList as_int_list(nb::handle h, const char* op, const char* arg) {
  if (is_int(h)) return {int64_of(h, op, arg)};
  if (!PySequence_Check(h.ptr()) || nb::isinstance<nb::str>(h) || nb::isinstance<Tensor>(h))
    bad_arg(op, arg, "a tuple of ints", h);
  IntList out;
  for (nb::handle item : nb::borrow<nb::sequence>(h)) out.push_back(as_int(item, op, arg));
  return out;
}

// --- Python value -> C++ argument of the op's signature -----------------------------------

template <class T> struct IsOptional : std::false_type {};
template <class T> struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
T from_python(nb::handle h, const char* op, const char* arg) {
  PyObject* o = h.ptr();
  if constexpr (IsOptional<T>::value) {
    if (h.is_none()) return std::nullopt;
    return from_python<typename T::value_type>(h, op, arg);
  } else if constexpr (std::is_same_v<T, Tensor>) {
    Tensor t;
    if (operand_from_python(h, t)) return t;
    bad_arg(op, arg, "Tensor", h);
  } else if constexpr (std::is_same_v<T, TensorList>) {
    if (!PySequence_Check(o) || nb::isinstance<Tensor>(h)) bad_arg(op, arg, "a sequence of Tensors", h);
    TensorList l;
    for (nb::handle item : nb::borrow<nb::sequence>(h)) {
      if (!nb::isinstance<Tensor>(item)) bad_arg(op, arg, "a sequence of Tensors", item);
      l.push_back(nb::cast<Tensor>(item));
    }
    return l;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return as_int(h, op, arg);
  } else if constexpr (std::is_same_v<T, IntList>) {
    return as_int_list(h, op, arg);
  } else if constexpr (std::is_same_v<T, double>) {
    if (PyFloat_Check(o)) return PyFloat_AS_DOUBLE(o);
    if (is_int(h)) return nb::cast<double>(h);
    bad_arg(op, arg, "float", h);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (PyBool_Check(o)) return o == Py_True;
    bad_arg(op, arg, "bool", h);
  } else if constexpr (std::is_same_v<T, Scalar>) {
    if (PyBool_Check(o)) return Scalar(o == Py_True);
    if (is_int(h)) return Scalar(int64_of(h, op, arg));
    if (PyFloat_Check(o)) return Scalar(PyFloat_AS_DOUBLE(o));
    if (nb::isinstance<Tensor>(h)) {
      const Tensor& t = nb::cast<const Tensor&>(h);
      VT_CHECK_VALUE(t.numel() == 1, op, "(): argument '", arg, "' must be a number or a one-element tensor, got a tensor of shape ",
                     shape_str(t.sizes()));
      return from_python<Scalar>(h.attr("item")(), op, arg);
    }
    bad_arg(op, arg, "a number", h);
  } else if constexpr (std::is_same_v<T, DType>) {
    if (nb::isinstance<DType>(h)) return nb::cast<DType>(h);
    bad_arg(op, arg, "a vibetensor dtype (e.g. vt.float32)", h);
  } else if constexpr (std::is_same_v<T, Device>) {
    if (nb::isinstance<Device>(h)) return nb::cast<Device>(h);
    if (nb::isinstance<nb::str>(h)) return Device::parse(nb::cast<std::string>(h));
    bad_arg(op, arg, "a device or a string such as 'cpu' or 'cuda:0'", h);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (nb::isinstance<nb::str>(h)) return nb::cast<std::string>(h);
    bad_arg(op, arg, "str", h);
  } else {
    static_assert(sizeof(T) == 0, "an op_list.h argument type without a Python conversion");
  }
}

// --- op result -> Python ------------------------------------------------------------------

nb::object to_python(Tensor&& t) {  // an undefined result (a gradient not asked for, rms_norm's mean) is None
  return t.defined() ? nb::cast(std::move(t)) : nb::none();
}
nb::object to_python(TensorList&& l) {
  nb::list out;
  for (auto& t : l) out.append(nb::cast(std::move(t)));
  return out;
}
template <class... Ts> nb::object to_python(std::tuple<Ts...>&& t) {
  return std::apply([](auto&... x) { return nb::make_tuple(to_python(std::move(x))...); }, t);
}

// The generated caller of one catalogue op.
template <const auto& Op, class Sig = typename std::remove_cvref_t<decltype(Op)>::Signature> struct PyOp;
template <const auto& Op, class R, class... Args> struct PyOp<Op, R(Args...)> {
  static constexpr size_t N = sizeof...(Args);
  static inline const Schema* schema = nullptr;
  static inline std::tuple<std::optional<std::decay_t<Args>>...> defaults;  // from the schema, made once
  static inline PyMethodDef function_def{}, method_def{};

  static void init() {
    schema = &Op.entry->schema;
    VT_CHECK(schema->args.size() == N, "op ", Op.name, ": schema has ", schema->args.size(), " arguments, C++ has ", N);
    [&]<size_t... I>(std::index_sequence<I...>) {
      auto set = [&]<size_t J>(std::integral_constant<size_t, J>) {
        const SchemaArg& a = schema->args[J];
        if (!a.has_default) return;
        IValue v = a.default_value;
        using T = std::tuple_element_t<J, std::tuple<Args...>>;
        std::get<J>(defaults).emplace(FromIValue<T>::get(v));
      };
      (set(std::integral_constant<size_t, I>{}), ...);
    }(std::index_sequence_for<Args...>{});
    function_def = {Op.name, (PyCFunction)(void (*)())&function, METH_FASTCALL | METH_KEYWORDS, schema->text.c_str()};
    method_def = {Op.name, (PyCFunction)(void (*)())&method, METH_FASTCALL | METH_KEYWORDS, schema->text.c_str()};
  }

  template <size_t I> static std::decay_t<std::tuple_element_t<I, std::tuple<Args...>>> argument(PyObject* h) {
    const SchemaArg& a = schema->args[I];
    if (h) return from_python<std::decay_t<std::tuple_element_t<I, std::tuple<Args...>>>>(h, Op.name, a.name.c_str());
    auto& d = std::get<I>(defaults);
    if (!d) detail::throw_error(ErrorKind::Type, Op.name, "() missing required argument '", a.name, "' (", a.type, ")");
    return *d;
  }

  static PyObject* call(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) noexcept {
    try {
      PyObject* given[N == 0 ? 1 : N] = {};
      bind_arguments(*schema, Op.name, self, args, nargs, kwnames, given);
      return [&]<size_t... I>(std::index_sequence<I...>) -> PyObject* {
        std::tuple<std::decay_t<Args>...> values{argument<I>(given[I])...};  // braces: in order
        if constexpr (std::is_void_v<R>) {
          route(Op, std::get<I>(values)...);
          return PyTuple_New(0);  // "-> ()": an empty tuple
        } else {
          return to_python(route(Op, std::get<I>(values)...)).release().ptr();
        }
      }(std::index_sequence_for<Args...>{});
    } catch (...) {
      set_python_error();
      return nullptr;
    }
  }
  static PyObject* function(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    return call(nullptr, args, nargs, kwnames);
  }
  static PyObject* method(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    return call(self, args, nargs, kwnames);
  }
};

}  // namespace

namespace catalogue {
#define VT_DEFINE_CATALOGUE_OP(ret, name, params, args, schema) \
  const CatalogueOp<ret params> name{#name, static_cast<ret(*) params>(&ops::name), &Dispatcher::get().entry("vt::" #name)};
VT_FOR_EACH_OP(VT_DEFINE_CATALOGUE_OP)
#undef VT_DEFINE_CATALOGUE_OP
}  // namespace catalogue

void bind_ops(nb::module_& m) {
  nb::module_ ops = m.def_submodule("_ops", "every catalogue op; see Note [One route from Python]");
  nb::dict methods;
  PyTypeObject* tensor_type = (PyTypeObject*)nb::type<Tensor>().ptr();
  auto add = [&](const char* name, PyMethodDef* function_def, PyMethodDef* method_def) {
    ops.attr(name) = nb::steal(PyCFunction_NewEx(function_def, nullptr, ops.attr("__name__").ptr()));
    methods[name] = nb::steal(PyDescr_NewMethod(tensor_type, method_def));
  };
#define VT_BIND_OP(ret, name, params, args, schema)   \
  PyOp<catalogue::name>::init();                      \
  add(#name, &PyOp<catalogue::name>::function_def, &PyOp<catalogue::name>::method_def);
  VT_FOR_EACH_OP(VT_BIND_OP)
#undef VT_BIND_OP
  m.attr("_op_methods") = methods;
}

}  // namespace vt::python
