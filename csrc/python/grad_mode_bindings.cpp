// Grad mode (thread-local, core/grad_mode.h) exposed to Python: vt.is_grad_enabled, vt.no_grad.
#include "core/grad_mode.h"
#include "python/bindings.h"

namespace vt::python {

void bind_grad_mode(nb::module_& m) {
  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("_set_grad_enabled", &GradMode::set_enabled);
}

}  // namespace vt::python
