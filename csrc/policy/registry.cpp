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
// Serializes writers, so the settings of one apply() are not interleaved with another's.
// Readers never take it (one relaxed load each).
std::mutex& write_mutex() {
  static std::mutex m;
  return m;
}
template <class Names>
std::string join(const Names& names) {
  std::ostringstream os;
  bool first = true;
  for (const auto& n : names) {
    os << (first ? "" : ", ") << "'" << n << "'";
    first = false;
  }
  return os.str();
}
std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}
}  // namespace

Policy::Policy(const char* name, const char* values, const char* vibe, Role role, Changes changes,
               const char* description, const char* mirrors, const char* file, const char* note)
    : name_(name), vibe_(vibe), role_(role), changes_(changes), description_(description), mirrors_(mirrors),
      file_(file), note_(note) {
  std::string_view rest(values);
  for (std::string_view v = next_listed_value(rest); !v.empty(); v = next_listed_value(rest))
    values_.emplace_back(v);
  registry().push_back(this);
}

int Policy::index_of(const std::string& value) const {
  for (size_t i = 0; i < values_.size(); ++i)
    if (values_[i] == value) return int(i);
  return -1;
}

// Changes a value; the caller holds write_mutex() and has validated the value.
struct Writer {
  static void set(Policy& p, const std::string& value) {
    int i = p.index_of(value);
    if (i == p.index()) return;
    VT_CHECK(!(p.fixed_after_first_use() && p.used()), "policy '", p.name(),
             "' is fixed at first use and is already in use with value '", p.value(), "'; set it to '", value,
             "' before first use (config file or VT_POLICY)");
    p.value_.store(i, std::memory_order_relaxed);
  }
};

const std::vector<Policy*>& all() { return registry(); }

Policy& find(const std::string& name) {
  for (Policy* p : registry())
    if (p->name() == name) return *p;
  std::vector<std::string> names;
  for (Policy* p : registry()) names.push_back(p->name());
  detail::throw_error(ErrorKind::Value, "unknown policy '", name, "': expected one of ", join(names));
}

std::vector<std::pair<std::string, std::string>> current() {
  std::vector<std::pair<std::string, std::string>> v;
  for (Policy* p : registry()) v.emplace_back(p->name(), p->value());
  return v;
}

std::vector<Setting> parse_spec(const std::string& spec) {
  std::vector<Setting> settings;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name = eq == std::string::npos ? "" : trim(item.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : trim(item.substr(eq + 1));
    VT_CHECK_VALUE(!name.empty() && !value.empty(), "malformed policy spec item '", item, "' in '", spec,
                   "': expected 'name=value' items separated by commas, e.g. 'preset=vibe,autograd.gate=per_graph'");
    settings.emplace_back(std::move(name), std::move(value));
  }
  return settings;
}

void validate(const std::vector<Setting>& settings) {
  for (const auto& [name, value] : settings) {
    if (name == "preset") {
      if (presets().count(value)) continue;
      std::vector<std::string> names;
      for (const auto& [n, _] : presets()) names.push_back(n);
      detail::throw_error(ErrorKind::Value, "unknown preset '", value, "': expected one of ", join(names));
    }
    const Policy& p = find(name);
    VT_CHECK_VALUE(p.index_of(value) >= 0, "policy '", name, "' has no value '", value, "': expected one of ",
                   join(p.values()));
  }
}

void apply(const std::vector<Setting>& settings) {
  std::lock_guard<std::mutex> g(write_mutex());
  validate(settings);
  for (const auto& [name, value] : settings) {
    if (name == "preset") {
      for (const auto& [n, v] : presets().at(value)) Writer::set(find(n), v);
    } else {
      Writer::set(find(name), value);
    }
  }
}

void set(const std::string& name, const std::string& value) { apply({{name, value}}); }
void apply_preset(const std::string& preset) { apply({{"preset", preset}}); }
void apply_spec(const std::string& spec) { apply(parse_spec(spec)); }

}  // namespace vt::policy
