// Policy registry, probes, grad mode and RNG seeding exposed to Python.
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>

#include "core/grad_mode.h"
#include "ops/random/philox.h"
#include "policy/catalogue.h"
#include "probes/counters.h"
#include "probes/instrumented_mutex.h"
#include "python/bindings.h"

namespace vt::python {

void bind_policy_and_probes(nb::module_& m) {
  m.def("_policy_set", [](const std::string& n, const std::string& v) { policy::set(n, v); });
  m.def("_policy_get", [](const std::string& n) { return policy::find(n).value(); });
  m.def("_policy_current", &policy::current);
  m.def("_policy_apply_spec", &policy::apply_spec);
  m.def("_policy_apply_preset", &policy::apply_preset);
  m.def("_policy_presets", &policy::presets);
  m.def("_policy_describe", [] {
    nb::list out;
    for (policy::Policy* p : policy::all()) {
      nb::dict d;
      d["name"] = p->name();
      d["value"] = p->value();
      d["default"] = p->default_value();
      d["values"] = p->values();
      d["description"] = p->description();
      d["mirrors"] = p->mirrors();
      d["fixed_after_first_use"] = p->fixed_after_first_use();
      d["in_use"] = p->used();
      out.append(d);
    }
    return out;
  });

  m.def("_lock_stats", [] {
    nb::list out;
    for (auto& s : probes::lock_stats()) {
      nb::dict d;
      d["name"] = s.name;
      d["acquisitions"] = s.acquisitions;
      d["contentions"] = s.contentions;
      d["wait_total_ns"] = s.wait_total_ns;
      d["wait_max_ns"] = s.wait_max_ns;
      d["hold_total_ns"] = s.hold_total_ns;
      d["hold_max_ns"] = s.hold_max_ns;
      out.append(d);
    }
    return out;
  });
  m.def("_reset_lock_stats", &probes::reset_lock_stats);
  m.def("_counters", &probes::counters_snapshot);
  m.def("_reset_counters", &probes::reset_counters);
  m.def("_probes_compiled", [] {
#if VT_PROBES
    return true;
#else
    return false;
#endif
  });

  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("_set_grad_enabled", &GradMode::set_enabled);
  m.def("manual_seed", [](int64_t s) { random::manual_seed(uint64_t(s)); });
  m.def("initial_seed", [] { return random::seed(); });
}

}  // namespace vt::python
