// vibetensor._C: the nanobind module.
#include "dispatch/dispatcher.h"
#include "python/bindings.h"

namespace vt::python {

NB_MODULE(_C, m) {
  m.doc() = "vibetensor C++ core";
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const vt::Error& e) {
      PyErr_SetString(python_exception_type(e.kind()), e.what());
    }
  });
  // Registration problems (a kernel whose signature differs from its schema) surface at import.
  Dispatcher::get().finalize();
  bind_policy(m);
  bind_probes(m);
  bind_grad_mode(m);
  bind_random(m);
  bind_threads(m);
  bind_tensor(m);
  bind_ops(m);
  bind_autograd(m);
  bind_hooks(m);
  bind_dlpack(m);
  bind_cuda(m);
  bind_suite(m);
  bind_plugins(m);
}

}  // namespace vt::python
