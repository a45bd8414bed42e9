#pragma once
// Shared declarations of the nanobind module vibetensor._C.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "core/tensor.h"
#include "dispatch/ivalue.h"

namespace nb = nanobind;

namespace vt::python {

void bind_tensor(nb::module_& m);
void bind_ops(nb::module_& m);
void bind_autograd(nb::module_& m);
void bind_hooks(nb::module_& m);
void bind_policy(nb::module_& m);
void bind_probes(nb::module_& m);
void bind_grad_mode(nb::module_& m);
void bind_random(nb::module_& m);
void bind_threads(nb::module_& m);
void bind_dlpack(nb::module_& m);
void bind_suite(nb::module_& m);
void bind_plugins(nb::module_& m);
// vibetensor._C._cuda (a stub saying is_built() == False in a build without CUDA).
void bind_cuda(nb::module_& m);

// A Python operand of an arithmetic operator: a Tensor, or a number made a wrapped 0-d tensor.
// Returns false (and leaves out untouched) for anything else, so the operator can return
// NotImplemented.
bool operand_from_python(nb::handle h, Tensor& out);
// The Python exception class a vt::Error of this kind raises.
inline PyObject* python_exception_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Value: return PyExc_ValueError;
    case ErrorKind::Type: return PyExc_TypeError;
    case ErrorKind::Index: return PyExc_IndexError;
    case ErrorKind::NotImplemented: return PyExc_NotImplementedError;
    default: return PyExc_RuntimeError;
  }
}

// Note [GIL around CPU kernels]
// A Python call into an op keeps the GIL for small operands (dropping and re-taking it costs more
// than such a kernel) and releases it while the op runs when a CPU operand has at least
// kReleaseGilNumel elements: other Python threads (each training its own model, as in the
// contention experiment) then run meanwhile, as with torch, which releases the GIL in every op.
// CUDA ops only enqueue work, so they keep it. The autograd engine's own GIL handling is the
// policy autograd.gil.
constexpr int64_t kReleaseGilNumel = 16384;
inline bool releases_gil(const Tensor& t) {
  return t.defined() && t.numel() >= kReleaseGilNumel && t.device().is_cpu();
}
// Runs f() without the GIL when `release`, else with it.
template <class F> decltype(auto) maybe_without_gil(bool release, F&& f) {
  if (release) {
    nb::gil_scoped_release no_gil;
    return f();
  }
  return f();
}

}  // namespace vt::python
