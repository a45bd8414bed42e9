// The CPU kernels' thread count exposed to Python (vt.set_num_threads, vt.get_num_threads).
#include <omp.h>

#include "core/error.h"
#include "python/bindings.h"

namespace vt::python {

void bind_threads(nb::module_& m) {
  // The CPU kernels' OpenMP team size for the calling thread (an OpenMP ICV is per thread, so a
  // Python thread that trains its own model sets its own, as with torch.set_num_threads).
  m.def("_set_num_threads", [](int n) {
    VT_CHECK_VALUE(n >= 1, "set_num_threads: expected a positive number of threads, got ", n);
    omp_set_num_threads(n);
  });
  m.def("_get_num_threads", [] { return omp_get_max_threads(); });
}

}  // namespace vt::python
