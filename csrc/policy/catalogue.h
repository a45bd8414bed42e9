#pragma once
// The policy catalogue: a TypedPolicy per row of catalogue.def, and the enum of its values.
#include "policy/registry.h"

namespace vt::policy {

// Note [Policies]
// Each policy names a real mechanism, and the catalogue (catalogue.def) is the map of them: one
// row per policy gives its name, its values, its vibe value, a description, the VibeTensor
// mechanism it mirrors, and where the mechanism lives (a file and the Note there that explains
// it; tests/test_policy.py checks that both exist). The first value is the tuned default; the
// vibe value reproduces a serialization point of the VibeTensor runtime (arXiv 2601.16238).
// From the rows come:
// - the C++ enum of each policy: its enumerators are the row's value names, in order;
// - the presets: tuned (every mechanism's first value) and vibe (every vibe value);
// - vt.policy.describe() and `vibetensor policies`.
// C++ reads a policy with get() (one relaxed atomic load), Python through vibetensor._C; a change
// from Python crosses once, as a list of settings that C++ parses, validates and applies
// (registry.h). Policies that shape long-lived state (the CUDA allocator strategy) are fixed at
// first use. Row order is the order of describe().
// To add a policy: add a row, read it where its mechanism lives, and write that Note.

#define VT_POLICY_VALUES(...) __VA_ARGS__
#define VT_POLICY(variable, Enum, name, values, vibe, role, changes, description, mirrors, file, note) \
  enum class Enum { VT_POLICY_VALUES values };                                                          \
  static_assert(Role::role == Role::mechanism || sizeof(vibe) == 1, "probe " name " has a vibe value"); \
  static_assert(sizeof(vibe) == 1 || lists_value(#values, vibe),                                \
                "the vibe value of " name " is not one of its values");                                 \
  extern TypedPolicy<Enum> variable;
#include "policy/catalogue.def"
#undef VT_POLICY
#undef VT_POLICY_VALUES

}  // namespace vt::policy
