// See call_arguments.h.
#include "python/call_arguments.h"

namespace vt::python {

namespace {

std::string type_name_of(nb::handle h) { return nb::cast<std::string>(nb::str(nb::handle((PyObject*)Py_TYPE(h.ptr())).attr("__name__"))); }

}  // namespace

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

void bind_arguments(const Schema& s, const char* name, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                    PyObject* kwnames, PyObject** given) {
  size_t npos = 0;
  for (auto& a : s.args) npos += !a.kwarg_only;
  size_t total = size_t(nargs) + (self != nullptr);
  VT_CHECK_TYPE(total <= npos, name, "() takes ", npos, " positional arguments but ", total, " were given");
  size_t i = 0;
  if (self) given[i++] = self;
  for (Py_ssize_t j = 0; j < nargs; ++j) given[i++] = args[j];
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, k);
    size_t a = 0;
    for (; a < s.args.size(); ++a) {
      const std::string& n = s.args[a].name;
      if (PyUnicode_CompareWithASCIIString(key, n.c_str()) == 0 ||
          (n == "self" && PyUnicode_CompareWithASCIIString(key, "input") == 0))
        break;
    }
    if (a == s.args.size())
      detail::throw_error(ErrorKind::Type, name, "() got an unexpected keyword argument '", PyUnicode_AsUTF8(key), "'");
    if (given[a]) detail::throw_error(ErrorKind::Type, name, "() got multiple values for argument '", s.args[a].name, "'");
    given[a] = args[nargs + k];
  }
}

void set_python_error() noexcept {
  try {
    throw;
  } catch (nb::python_error& e) {
    e.restore();
  } catch (const vt::Error& e) {
    PyErr_SetString(python_exception_type(e.kind()), e.what());
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
}

}  // namespace vt::python
