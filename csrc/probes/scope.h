#pragma once
// Probe scopes: one RAII object marks a region (an op, a backward node, an allocation, a sync)
// for NVTX (probes.nvtx) and for the trace event ring (probes.trace). With both off the cost is
// two relaxed loads; with VT_PROBES=0 the scope compiles to nothing. See Note [Probe scopes].
#include <cstdint>
#include <string>

#include "policy/catalogue.h"

namespace vt::probes {

enum class Category : uint8_t { op, dispatch, autograd, alloc, sync, python, kNum };
const char* category_name(Category c);

// Level of detail a scope belongs to: coarse scopes (a whole backward, a step) show under
// probes.nvtx=coarse; fine ones (each op, node, allocation) only under fine.
enum class Detail : uint8_t { coarse = 1, fine = 2 };

inline bool nvtx_wants(Detail d) {
  policy::ProbesNvtx level = policy::probes_nvtx.get();
  return d == Detail::coarse ? level != policy::ProbesNvtx::off : level == policy::ProbesNvtx::fine;
}
inline bool trace_on() { return policy::probes_trace.get() == policy::ProbesTrace::on; }

void nvtx_push(Category c, const char* name);
void nvtx_pop();
uint64_t trace_begin();
void trace_end(Category c, const char* name, uint64_t begin_ns);

class Scope {
 public:
  Scope(Category c, Detail d, const char* name) {
#if VT_PROBES
    if (nvtx_wants(d)) [[unlikely]] { nvtx_push(c, name); nvtx_ = true; }
    if (trace_on()) [[unlikely]] { begin_ = trace_begin(); cat_ = c; name_ = name; }
#else
    (void)c; (void)d; (void)name;
#endif
  }
  ~Scope() {
#if VT_PROBES
    if (nvtx_) [[unlikely]] nvtx_pop();
    if (begin_) [[unlikely]] trace_end(cat_, name_, begin_);
#endif
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  bool nvtx_ = false;
  uint64_t begin_ = 0;
  Category cat_ = Category::op;
  const char* name_ = nullptr;
};

// True when a scope of this detail would record anything (to skip building a dynamic name).
inline bool any_scope_on(Detail d) {
#if VT_PROBES
  return nvtx_wants(d) || trace_on();
#else
  (void)d;
  return false;
#endif
}
const char* intern_name(const std::string& s);

// Whether NVTX was compiled in (headers found at build time).
bool nvtx_compiled();

}  // namespace vt::probes

#define VT_PROBE_SCOPE(cat, detail, name) \
  ::vt::probes::Scope VT_PROBE_CONCAT(vt_probe_scope_, __LINE__)(::vt::probes::Category::cat, ::vt::probes::Detail::detail, name)
#define VT_PROBE_CONCAT_INNER(a, b) a##b
#define VT_PROBE_CONCAT(a, b) VT_PROBE_CONCAT_INNER(a, b)
