#include "policy/registry.h"

#include <mutex>
#include <sstream>

#include "core/error.h"

namespace vt::policy {

namespace {
std::vector<Policy*>& registry() {
  static std::vector<Policy*> r;
  return r;
}
std::mutex& set_mutex() {
  static std::mutex m;
  return m;
}
std::string join(const std::vector<std::string>& v) {
  std::ostringstream os;
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << "'" << v[i] << "'";
  return os.str();
}
}  // namespace

Policy::Policy(const char* name, std::vector<std::string> values, const char* description,
               const char* mirrors, bool fixed_after_first_use)
    : name_(name), values_(std::move(values)), description_(description), mirrors_(mirrors),
      fixed_(fixed_after_first_use) {
  registry().push_back(this);
}

int Policy::index_of(const std::string& value) const {
  for (size_t i = 0; i < values_.size(); ++i)
    if (values_[i] == value) return int(i);
  return -1;
}

void Policy::set(const std::string& value) {
  int i = index_of(value);
  VT_CHECK_VALUE(i >= 0, "policy '", name_, "' has no value '", value, "': expected one of ", join(values_));
  if (i == index()) return;
  VT_CHECK(!(fixed_ && used()), "policy '", name_, "' is fixed at first use and is already in use with value '",
           this->value(), "'; set it to '", value, "' before first use (config file or VT_POLICY)");
  value_.store(i, std::memory_order_relaxed);
}

const std::vector<Policy*>& all() { return registry(); }

Policy& find(const std::string& name) {
  for (Policy* p : registry())
    if (p->name() == name) return *p;
  std::vector<std::string> names;
  for (Policy* p : registry()) names.push_back(p->name());
  detail::throw_error(ErrorKind::Value, "unknown policy '", name, "': expected one of ", join(names));
}

void set(const std::string& name, const std::string& value) {
  std::lock_guard<std::mutex> g(set_mutex());
  find(name).set(value);
}

std::map<std::string, std::string> current() {
  std::map<std::string, std::string> m;
  for (Policy* p : registry()) m[p->name()] = p->value();
  return m;
}

void apply_preset(const std::string& preset) {
  auto it = presets().find(preset);
  if (it == presets().end()) {
    std::vector<std::string> names;
    for (auto& [n, _] : presets()) names.push_back(n);
    detail::throw_error(ErrorKind::Value, "unknown preset '", preset, "': expected one of ", join(names));
  }
  // Validate everything first so a bad preset changes nothing.
  for (auto& [k, v] : it->second) {
    Policy& p = find(k);
    VT_CHECK_VALUE(p.index_of(v) >= 0, "preset '", preset, "' sets policy '", k, "' to unknown value '", v,
                   "': expected one of ", join(p.values()));
  }
  for (auto& [k, v] : it->second) set(k, v);
}

void apply_spec(const std::string& spec) {
  std::vector<std::pair<std::string, std::string>> items;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto trim = [](std::string s) {
      size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
      return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
    };
    item = trim(item);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    VT_CHECK_VALUE(eq != std::string::npos && eq > 0 && eq + 1 < item.size(), "malformed policy spec item '", item,
                   "' in '", spec, "': expected 'name=value' items separated by commas, e.g. "
                   "'preset=vibe,autograd.gate=per_graph'");
    items.emplace_back(trim(item.substr(0, eq)), trim(item.substr(eq + 1)));
  }
  // Validate first (names and values), then apply in order.
  for (auto& [k, v] : items) {
    if (k == "preset") {
      VT_CHECK_VALUE(presets().count(v), "unknown preset '", v, "' in policy spec '", spec, "'");
    } else {
      Policy& p = find(k);
      VT_CHECK_VALUE(p.index_of(v) >= 0, "policy '", k, "' has no value '", v, "': expected one of ",
                     join(p.values()));
    }
  }
  for (auto& [k, v] : items) {
    if (k == "preset") apply_preset(v);
    else set(k, v);
  }
}

}  // namespace vt::policy
