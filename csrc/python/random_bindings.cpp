// Seeding of the Philox generator shared by every device (ops/random/philox.h).
#include <nanobind/stl/pair.h>

#include "ops/random/philox.h"
#include "python/bindings.h"

namespace vt::python {

void bind_random(nb::module_& m) {
  m.def("manual_seed", [](int64_t s) { random::manual_seed(uint64_t(s)); });
  m.def("initial_seed", [] { return random::seed(); });
  // (seed, offset) as two's-complement int64s, the words of get_rng_state's tensor (vibetensor/random.py)
  m.def("_rng_state", [] { return std::make_pair(int64_t(random::seed()), int64_t(random::offset())); });
  m.def("_set_rng_state", [](int64_t s, int64_t o) { random::set_state(uint64_t(s), uint64_t(o)); });
}

}  // namespace vt::python
