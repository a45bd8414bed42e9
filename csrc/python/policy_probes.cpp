// Policy registry, probes, grad mode and RNG seeding exposed to Python.
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>

#include "core/grad_mode.h"
#include "ops/random/philox.h"
#include "policy/catalogue.h"
#include "probes/counters.h"
#include "probes/instrumented_mutex.h"
#include "probes/trace_ring.h"
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

  m.def("_trace_drain", [] {
    nb::list out;
    for (const auto& e : probes::drain_trace_events())
      out.append(nb::make_tuple(e.begin_ns, e.end_ns, e.name, probes::category_name(e.cat), e.tid));
    return out;
  });
  m.def("_trace_dropped", &probes::dropped_trace_events);
  m.def("_trace_clock_ns", &probes::trace_clock_ns);
  // A Python range (step, forward, ...) that began at begin_ns (trace clock) and ends now.
  m.def("_trace_record", [](const std::string& name, uint64_t begin_ns) {
    probes::trace_end(probes::Category::python, probes::intern_name(name), begin_ns);
  });
  m.def("_nvtx_compiled", &probes::nvtx_compiled);
  m.def("_nvtx_push", [](const std::string& name) { probes::nvtx_push(probes::Category::python, probes::intern_name(name)); });
  m.def("_nvtx_pop", &probes::nvtx_pop);

  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("_set_grad_enabled", &GradMode::set_enabled);
  m.def("manual_seed", [](int64_t s) { random::manual_seed(uint64_t(s)); });
  m.def("initial_seed", [] { return random::seed(); });
}

}  // namespace vt::python
