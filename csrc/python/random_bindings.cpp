// Seeding of the Philox generator shared by every device (ops/random/philox.h).
#include "ops/random/philox.h"
#include "python/bindings.h"

namespace vt::python {

void bind_random(nb::module_& m) {
  m.def("manual_seed", [](int64_t s) { random::manual_seed(uint64_t(s)); });
  m.def("initial_seed", [] { return random::seed(); });
}

}  // namespace vt::python
