// The policy catalogue exposed to Python (vibetensor/policy.py). See Note [Policies] in
// policy/catalogue.h.
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>

#include "policy/catalogue.h"
#include "python/bindings.h"

namespace vt::python {

namespace {

// A spec string ("preset=vibe,autograd.gate=per_graph") followed by (name, value) settings, as
// vt.policy.set(spec, **settings) gives them.
std::vector<policy::Setting> settings_of(const std::string& spec, std::vector<policy::Setting> settings) {
  std::vector<policy::Setting> all = policy::parse_spec(spec);
  all.insert(all.end(), std::make_move_iterator(settings.begin()), std::make_move_iterator(settings.end()));
  return all;
}

}  // namespace

void bind_policy(nb::module_& m) {
  // Every change of policies from Python crosses here once: C++ parses, validates and applies.
  m.def("_policy_apply",
        [](const std::string& spec, std::vector<policy::Setting> settings) {
          policy::apply(settings_of(spec, std::move(settings)));
        },
        nb::arg("spec"), nb::arg("settings") = std::vector<policy::Setting>{});
  m.def("_policy_validate",
        [](const std::string& spec, std::vector<policy::Setting> settings) {
          policy::validate(settings_of(spec, std::move(settings)));
        },
        nb::arg("spec"), nb::arg("settings") = std::vector<policy::Setting>{});
  m.def("_policy_set", &policy::set, nb::arg("name"), nb::arg("value"));
  m.def("_policy_get", [](const std::string& name) { return policy::find(name).value(); }, nb::arg("name"));
  // {name: value} in catalogue order.
  m.def("_policy_current", [] {
    nb::dict d;
    for (const auto& [name, value] : policy::current()) d[name.c_str()] = value;
    return d;
  });
  m.def("_policy_presets", &policy::presets);
  m.def("_policy_describe", [] {
    nb::list out;
    for (const policy::Policy* p : policy::all()) {
      nb::dict d;
      d["name"] = p->name();
      d["value"] = p->value();
      d["default"] = p->default_value();
      d["values"] = p->values();
      d["description"] = p->description();
      d["mirrors"] = p->mirrors();
      d["fixed_after_first_use"] = p->fixed_after_first_use();
      d["in_use"] = p->used();
      d["file"] = p->file();
      d["note"] = p->note();
      out.append(d);
    }
    return out;
  });
  // One relaxed load: the kernel cache reads it on every launch.
  m.def("_kernels_cache_locked", [] { return policy::kernels_cache.get() == policy::KernelsCache::locked; });
}

}  // namespace vt::python
