#pragma once
// The policy registry: every runtime choice that can make a correct system slow is a named
// Policy with a closed set of values. Hot paths read a policy with one relaxed atomic load.
// The policies themselves are the rows of the catalogue (catalogue.def); see Note [Policies]
// in catalogue.h.
#include <atomic>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vt::policy {

// Takes the next name off a catalogue row's values list as written, "(handle, locked_map)";
// "" when none is left.
constexpr std::string_view next_listed_value(std::string_view& rest) {
  auto is_separator = [](char c) { return c == '(' || c == ')' || c == ',' || c == ' '; };
  while (!rest.empty() && is_separator(rest.front())) rest.remove_prefix(1);
  size_t n = 0;
  while (n < rest.size() && !is_separator(rest[n])) ++n;
  std::string_view name = rest.substr(0, n);
  rest.remove_prefix(n);
  return name;
}
constexpr bool lists_value(std::string_view values, std::string_view value) {
  for (std::string_view v = next_listed_value(values); !v.empty(); v = next_listed_value(values))
    if (v == value) return true;
  return false;
}

// mechanism: a real mechanism, set by the presets; probe: an instrument the presets leave alone.
enum class Role { mechanism, probe };
// until_first_use: the subsystem builds long-lived state from the value (the CUDA allocator), so
// the value is fixed once the subsystem marks the policy used.
enum class Changes { anytime, until_first_use };

class Policy {
 public:
  // `values` is the catalogue row's list as written, "(handle, locked_map)"; the first value is
  // the tuned default. `vibe` is "" when the vibe preset leaves the policy alone.
  Policy(const char* name, const char* values, const char* vibe, Role role, Changes changes,
         const char* description, const char* mirrors, const char* file, const char* note);
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& values() const { return values_; }
  const std::string& value() const { return values_[index()]; }
  const std::string& default_value() const { return values_[0]; }
  const std::string& vibe_value() const { return vibe_; }
  Role role() const { return role_; }
  const std::string& description() const { return description_; }
  const std::string& mirrors() const { return mirrors_; }
  // Where the mechanism lives: a file (from the repository root) and the title of its Note.
  const std::string& file() const { return file_; }
  const std::string& note() const { return note_; }
  bool fixed_after_first_use() const { return changes_ == Changes::until_first_use; }
  bool used() const { return used_.load(std::memory_order_relaxed); }

  // Called by the subsystem on first use; a policy fixed at first use rejects later changes.
  void mark_used() { used_.store(true, std::memory_order_relaxed); }
  int index_of(const std::string& value) const;  // -1 when not a value of this policy

 protected:
  // Index of the current value in values(). C++ code reads a policy through TypedPolicy::get().
  int index() const { return value_.load(std::memory_order_relaxed); }

 private:
  friend struct Writer;  // registry.cpp: changes values under the registry's mutex
  std::string name_;
  std::vector<std::string> values_;
  std::string vibe_;
  Role role_;
  Changes changes_;
  std::string description_, mirrors_, file_, note_;
  std::atomic<int> value_{0};
  std::atomic<bool> used_{false};
};

// A policy whose values are the enumerators of E, in the same order (both come from one
// catalogue row). get() is the one way C++ code reads a policy:
//   if (policy::autograd_gate.get() == policy::AutogradGate::global) ...
template <class E>
class TypedPolicy : public Policy {
 public:
  using Policy::Policy;
  E get() const { return static_cast<E>(index()); }
};

// All policies in catalogue order.
const std::vector<Policy*>& all();
Policy& find(const std::string& name);  // ValueError listing known names
// (name, value) of every policy, in catalogue order.
std::vector<std::pair<std::string, std::string>> current();

// Presets are derived from the catalogue rows: tuned sets every mechanism to its first value,
// vibe sets every mechanism that has a vibe value to it.
const std::map<std::string, std::map<std::string, std::string>>& presets();

// A setting is (policy name, value) or ("preset", preset name).
using Setting = std::pair<std::string, std::string>;
// Parses the VT_POLICY syntax, "preset=vibe,autograd.gate=per_graph", into settings.
std::vector<Setting> parse_spec(const std::string& spec);
// ValueError naming the first unknown policy, value or preset and listing the valid ones.
void validate(const std::vector<Setting>& settings);
// Validates every setting (a bad one changes nothing), then applies them in order; a preset
// applies its values where it stands. Concurrent calls apply one after the other.
void apply(const std::vector<Setting>& settings);
void set(const std::string& name, const std::string& value);
void apply_preset(const std::string& preset);
void apply_spec(const std::string& spec);

}  // namespace vt::policy
