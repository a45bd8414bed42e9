// See spec_table.h and kernel_decl.h.
#include "ops/suite/spec_table.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <tuple>
#include <utility>

#include "core/dtype.h"
#include "core/error.h"
#include "probes/counters.h"
#if VT_CUDA
#include "cuda/device.h"
#endif

namespace vt::suite {

// Note [Specialization table]
// Launches read a kernel's specializations with acquire loads and no lock: an entry is written
// whole before the size that makes it visible is published, and entries are never removed or
// changed afterwards (a loaded module lives for the process, as Triton's do). Writers take a mutex
// only to append; the compile before it runs with no lock held (Note [Suite compiles and the
// GIL]), so two threads missing on one key may both compile it and the second result is dropped.
const Compiled* SpecTable::find(const SpecKey& key) const {
  int n = size_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    const Compiled* c = entries_[i].load(std::memory_order_acquire);
    if (c->key == key) return c;
  }
  return nullptr;
}

const Compiled* SpecTable::insert(const Compiled* c) {
  std::lock_guard<std::mutex> g(insert_mutex_);
  if (const Compiled* existing = find(c->key)) return existing;
  int n = size_.load(std::memory_order_relaxed);
  if (n == kCapacity) return nullptr;
  entries_[n].store(c, std::memory_order_release);
  size_.store(n + 1, std::memory_order_release);
  return c;
}

namespace {

const char* triton_type(DType t) {
  switch (t) {
    case DType::Float32: return "fp32";
    case DType::Float64: return "fp64";
    case DType::Float16: return "fp16";
    case DType::BFloat16: return "bf16";
    case DType::Int64: return "i64";
    case DType::Int32: return "i32";
    case DType::Bool: return "i1";
  }
  return "?";
}

const char* scalar_type(Arg a) {
  switch (a) {
    case Arg::i32: return "i32";
    case Arg::i64: return "i64";
    case Arg::f32: return "fp32";
    case Arg::ptr: break;
  }
  return "?";
}

std::string describe(const KernelDecl& k, const SpecKey& key) {
  std::string s = std::string(k.name) + " [";
  for (size_t i = 0; i < k.params.size(); ++i) {
    if (k.params[i].kind != Arg::ptr) continue;
    s += std::string(k.params[i].name) + ":" + triton_type(DType(key.dtypes[i] - 1)) + " ";
  }
  for (size_t i = 0; i < k.constants.size(); ++i) s += std::string(k.constants[i]) + "=" + std::to_string(key.constants[i]) + " ";
  return s + "warps=" + std::to_string(key.warps) + (key.aligned ? " aligned]" : "]");
}

std::mutex g_pending_mutex;
struct Pending {
  const KernelDecl* k;
  SpecKey key;
  Backend b;
};
std::vector<Pending> g_pending;

}  // namespace

CompileRequest make_request(const KernelDecl& k, const SpecKey& key, Backend b, int cc_major, int cc_minor) {
  CompileRequest r;
  r.backend = backend_name(b);
  r.family = k.family;
  r.kernel = k.name;
  for (size_t i = 0; i < k.params.size(); ++i) {
    const Param& p = k.params[i];
    r.signature.emplace_back(p.name, p.kind == Arg::ptr ? std::string("*") + triton_type(DType(key.dtypes[i] - 1))
                                                        : std::string(scalar_type(p.kind)));
  }
  for (size_t i = 0; i < k.constants.size(); ++i) r.constants.emplace_back(k.constants[i], key.constants[i]);
  r.warps = key.warps;
  r.stages = key.stages;
  r.cc_major = cc_major;
  r.cc_minor = cc_minor;
  r.aligned = key.aligned != 0;
  return r;
}

const Compiled* compile_and_publish(const KernelDecl& k, const SpecKey& key, Backend b) {
  int major = 9, minor = 0;  // the image of a CPU-side (test) compile is for the H100
#if VT_CUDA
  if (key.device >= 0) std::tie(major, minor) = cuda::device_capability(key.device);
#endif
  probes::count(probes::Counter::kernel_compiles);
  CompiledImage img = compile(b, make_request(k, key, b, major, minor));
  VT_CHECK(!img.image.empty() && !img.symbol.empty(), "kernel suite: the ", backend_name(b), " compiler returned no image for ",
           describe(k, key));
  VT_CHECK(img.global_scratch_bytes == 0 && img.profile_scratch_bytes == 0, "kernel suite: ", describe(k, key),
           " needs ", img.global_scratch_bytes, " bytes of global scratch memory, which the C++ launcher does not "
           "provide");
  VT_CHECK(img.warps == key.warps, "kernel suite: ", describe(k, key), " was compiled for ", img.warps, " warps");
  auto* c = new Compiled{key, img.symbol, int(img.image.size()), 32 * img.warps, img.shared_bytes};
#if VT_CUDA
  if (key.device >= 0) c->function = cuda::load_function(key.device, img.image, img.symbol, img.shared_bytes);
#endif
  const Compiled* in = k.table.insert(c);
  if (in != c) delete c;  // another thread published this key first, or the table is full
  VT_CHECK(in != nullptr, "kernel suite: ", k.name, " has ", SpecTable::kCapacity,
           " specializations already; no room for ", describe(k, key));
  return in;
}

void defer(const KernelDecl& k, const SpecKey& key, Backend b) {
  std::lock_guard<std::mutex> g(g_pending_mutex);
  for (const Pending& p : g_pending)
    if (p.k == &k && p.key == key) return;
  g_pending.push_back({&k, key, b});
}

int compile_pending() {
  std::vector<Pending> todo;
  {
    std::lock_guard<std::mutex> g(g_pending_mutex);
    todo.swap(g_pending);
  }
  for (const Pending& p : todo)
    if (!p.k->table.find(p.key)) compile_and_publish(*p.k, p.key, p.b);
  return int(todo.size());
}

int pending_count() {
  std::lock_guard<std::mutex> g(g_pending_mutex);
  return int(g_pending.size());
}

}  // namespace vt::suite
