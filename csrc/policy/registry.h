#pragma once
// The policy registry: every runtime choice that can make a correct system slow is a named
// Policy with a closed set of values. Hot paths read a policy with one relaxed atomic load.
// See Note [Policies] in catalogue.cpp for the catalogue and the presets.
#include <atomic>
#include <map>
#include <string>
#include <vector>

namespace vt::policy {

class Policy {
 public:
  Policy(const char* name, std::vector<std::string> values, const char* description,
         const char* mirrors, bool fixed_after_first_use);

  // Index of the current value in values(); 0 is the tuned default.
  int index() const { return value_.load(std::memory_order_relaxed); }
  template <class E> E get() const { return static_cast<E>(index()); }

  const std::string& name() const { return name_; }
  const std::vector<std::string>& values() const { return values_; }
  const std::string& value() const { return values_[index()]; }
  const std::string& default_value() const { return values_[default_]; }
  const std::string& description() const { return description_; }
  const std::string& mirrors() const { return mirrors_; }
  bool fixed_after_first_use() const { return fixed_; }
  bool used() const { return used_.load(std::memory_order_relaxed); }

  // Called by the subsystem on first use; a fixed policy rejects later changes.
  void mark_used() { used_.store(true, std::memory_order_relaxed); }
  // Validates and sets; ValueError listing valid values, RuntimeError for a late change.
  void set(const std::string& value);
  int index_of(const std::string& value) const;  // -1 when not a value of this policy

 private:
  std::string name_;
  std::vector<std::string> values_;
  std::string description_, mirrors_;
  bool fixed_;
  int default_ = 0;
  std::atomic<int> value_{0};
  std::atomic<bool> used_{false};
};

// All policies in registration order.
const std::vector<Policy*>& all();
Policy& find(const std::string& name);  // ValueError listing known names
void set(const std::string& name, const std::string& value);
std::map<std::string, std::string> current();

// Presets are data: a name and a set of (policy, value) pairs. Unknown names are errors.
const std::map<std::string, std::map<std::string, std::string>>& presets();
void apply_preset(const std::string& preset);
// Parses "preset=vibe,autograd.gate=per_graph" (the VT_POLICY syntax) and applies it in order.
void apply_spec(const std::string& spec);

}  // namespace vt::policy
