// Grad mode (thread-local, core/grad_mode.h) exposed to Python: vt.is_grad_enabled, vt.no_grad; and
// this thread's autocast state (dispatch/autocast.h, Note [Autocast]) behind vt.autocast.
#include <nanobind/stl/tuple.h>

#include "core/grad_mode.h"
#include "dispatch/autocast.h"
#include "python/bindings.h"

namespace vt::python {

void bind_grad_mode(nb::module_& m) {
  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("_set_grad_enabled", &GradMode::set_enabled);
  // (cuda on, cuda dtype, cpu on, cpu dtype)
  m.def("_autocast_state", [] {
    const autocast::State& s = autocast::state();
    return std::make_tuple(s.cuda_on, s.cuda_dtype, s.cpu_on, s.cpu_dtype);
  });
  m.def("_set_autocast_state", [](bool cuda_on, DType cuda_dtype, bool cpu_on, DType cpu_dtype) {
    for (DType d : {cuda_dtype, cpu_dtype})
      VT_CHECK_VALUE(d == DType::Float16 || d == DType::BFloat16, "autocast: dtype ", d,
                     " is not supported; expected vibetensor.float16 or vibetensor.bfloat16");
    autocast::State& s = autocast::state();
    s.cuda_on = cuda_on, s.cpu_on = cpu_on, s.cuda_dtype = cuda_dtype, s.cpu_dtype = cpu_dtype;
    s.active = cuda_on || cpu_on;
  });
}

}  // namespace vt::python
