#include "policy/catalogue.h"

namespace vt::policy {

// The policies, in row order (registration order). See Note [Policies] in catalogue.h.
#define VT_POLICY(variable, Enum, name, values, vibe, role, changes, description, mirrors, file, note) \
  TypedPolicy<Enum> variable(name, #values, vibe, Role::role, Changes::changes, description, mirrors, file, note);
#include "policy/catalogue.def"
#undef VT_POLICY

const std::map<std::string, std::map<std::string, std::string>>& presets() {
  static const std::map<std::string, std::map<std::string, std::string>> p = [] {
    std::map<std::string, std::map<std::string, std::string>> m{{"tuned", {}}, {"vibe", {}}};
    for (const Policy* pol : all()) {
      if (pol->role() != Role::mechanism) continue;
      m["tuned"][pol->name()] = pol->default_value();
      if (!pol->vibe_value().empty()) m["vibe"][pol->name()] = pol->vibe_value();
    }
    return m;
  }();
  return p;
}

}  // namespace vt::policy
