#pragma once
// Reading a Python call's (*args, **kwargs) by an op's schema: shared by the catalogue ops'
// generated callers (op_bindings.cpp) and the plugin ops' caller (plugin_bindings.cpp).
#include <string>

#include "dispatch/schema.h"
#include "python/bindings.h"

namespace vt::python {

// A TypeError: "<op>(): argument '<arg>' must be <expected>, not <type of got>".
[[noreturn]] void bad_arg(const char* op, const char* arg, const std::string& expected, nb::handle got);
bool is_int(nb::handle h);  // a Python int that is not a bool
// A Python int (or an object with __index__) as int64, with clear errors for others and overflow.
int64_t as_int(nb::handle h, const char* op, const char* arg);
int64_t int64_of(nb::handle h, const char* op, const char* arg);

// Fills given[i] (borrowed) with the value passed for schema argument i, or nullptr when it was
// not passed. `self`, when not null, is the bound tensor of a method call: the first argument.
// A keyword `input` names an argument called `self`, as in torch's argument parser.
void bind_arguments(const Schema& s, const char* name, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                    PyObject* kwnames, PyObject** given);

// The exception being handled, set as the Python error (what nanobind's translators do for bound
// functions; the op callers are plain CPython ones). Call inside a catch block.
void set_python_error() noexcept;

}  // namespace vt::python
