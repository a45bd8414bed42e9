// See Note [Kernel suite launch path] in launch.h.
#include "ops/suite/launch.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string_view>
#include <mutex>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.h"
#include "ops/suite/spec_table.h"
#include "probes/counters.h"
#include "probes/instrumented_mutex.h"
#if VT_CUDA
#include "cuda/status_check.h"
#include "cuda/stream.h"
#endif

namespace vt::suite {
namespace {

std::mutex g_report_mutex;

// Note [Fallback counts]
// fallback() runs on every call of an op that falls back (a float64 softmax under
// kernels.backend=triton runs it per call), so a repeat takes no lock: the (family, backend, why)
// keys live in a fixed open-addressing table whose slots are written once, under a mutex, and
// published by storing their hash last; later calls find their slot by hash and string compare
// and add to an atomic count. reset_report() zeroes the counts and keeps the keys.
struct FallbackSlot {
  std::atomic<uint64_t> hash{0};  // 0: empty; stored (release) after the strings are written
  std::string family, backend, why;
  std::atomic<uint64_t> count{0};
};
constexpr size_t kFallbackSlots = 512;
FallbackSlot g_fallback_slots[kFallbackSlots];
std::atomic<uint64_t> g_fallback_overflow{0};  // reasons past the table's size (counted, not named)
std::mutex g_fallback_insert_mutex;

uint64_t fallback_hash(std::string_view family, std::string_view backend, std::string_view why) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the three keys, separated
  for (std::string_view part : {family, backend, why}) {
    for (unsigned char c : part) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  }
  return h | 1;  // never 0, the empty mark
}

bool same_key(const FallbackSlot& s, std::string_view family, std::string_view backend, std::string_view why) {
  return s.family == family && s.backend == backend && s.why == why;
}
std::mutex& decls_mutex() {
  static auto* m = new std::mutex;  // declarations are static objects: no order of initialization
  return *m;
}
std::vector<const KernelDecl*>& decls() {
  static auto* v = new std::vector<const KernelDecl*>;
  return *v;
}

probes::InstrumentedMutex& cache_lock() {
  static auto* m = new probes::InstrumentedMutex("kernels.cache");  // same name as kernels/cache.py's
  return *m;
}

}  // namespace

KernelDecl::KernelDecl(const char* family, const char* name, std::vector<Param> params,
                       std::vector<const char*> constants, bool builtin)
    : family(family), name(name), params(std::move(params)), constants(std::move(constants)), builtin(builtin) {
  std::lock_guard<std::mutex> g(decls_mutex());
  decls().push_back(this);
}

std::vector<const KernelDecl*> declarations() {
  std::lock_guard<std::mutex> g(decls_mutex());
  return decls();
}

namespace {
// Note [Backend per family]
// kernels.backend picks one backend for every family; a family may be given its own (the fastest
// backend per family, as issue 19's end-to-end figures ask) with set_family_backend. Entries are
// written under a mutex and read without one; the table is only searched once any entry was set.
struct FamilyBackend {
  std::atomic<const char*> family{nullptr};  // leaked copies: entries live for the process
  std::atomic<int> backend{-1};              // -1: follow kernels.backend
};
constexpr int kMaxFamilyBackends = 32;
FamilyBackend g_family_backends[kMaxFamilyBackends];
std::atomic<bool> g_any_family_backend{false};
std::mutex g_family_backends_mutex;

Backend effective_backend(const char* family) {
  Backend b = policy::kernels_backend.get();
  if (!g_any_family_backend.load(std::memory_order_acquire)) [[likely]] return b;
  for (const FamilyBackend& e : g_family_backends) {
    const char* f = e.family.load(std::memory_order_acquire);
    if (!f) break;
    if (std::strcmp(f, family) == 0) {
      int v = e.backend.load(std::memory_order_acquire);
      return v < 0 ? b : Backend(v);
    }
  }
  return b;
}
}  // namespace

void set_family_backend(const std::string& family, std::optional<Backend> backend) {
  std::lock_guard<std::mutex> g(g_family_backends_mutex);
  for (FamilyBackend& e : g_family_backends) {
    const char* f = e.family.load(std::memory_order_acquire);
    if (f && family == f) {
      e.backend.store(backend ? int(*backend) : -1, std::memory_order_release);
      return;
    }
    if (!f) {
      if (!backend) return;  // nothing to clear
      e.backend.store(int(*backend), std::memory_order_release);
      e.family.store(strdup(family.c_str()), std::memory_order_release);
      g_any_family_backend.store(true, std::memory_order_release);
      return;
    }
  }
  VT_ERROR("kernel suite: more than ", kMaxFamilyBackends, " families were given their own backend");
}

std::vector<std::pair<std::string, std::string>> family_backends() {
  std::lock_guard<std::mutex> g(g_family_backends_mutex);
  std::vector<std::pair<std::string, std::string>> out;
  for (const FamilyBackend& e : g_family_backends) {
    const char* f = e.family.load(std::memory_order_acquire);
    if (!f) break;
    int v = e.backend.load(std::memory_order_acquire);
    if (v >= 0) out.emplace_back(f, backend_name(Backend(v)));
  }
  return out;
}

Backend backend_for(const char* family) {
  Backend b = effective_backend(family);
  if (b == Backend::native || serves(b, family)) [[likely]] return b;
  // Every op call of the family lands here until vibetensor.kernels is imported (or always, for a family the
  // backend has no kernels for): the reasons are built once.
  static const auto* reasons = [] {
    auto* r = new std::vector<std::string>;
    for (const std::string& name : policy::kernels_backend.values()) {
      r->push_back("no " + name + " compiler is registered (import vibetensor.kernels)");
      r->push_back("the " + name + " backend has no kernels for this family");
    }
    return r;
  }();
  fallback(family, (*reasons)[2 * int(b) + (has_compiler(b) ? 1 : 0)]);
  return Backend::native;
}

void fallback(const char* family, std::string_view why) {
  // Note [Fallback counts]
  std::string_view backend = backend_name(effective_backend(family));
  uint64_t h = fallback_hash(family, backend, why);
  for (size_t i = 0; i < kFallbackSlots; ++i) {
    FallbackSlot& s = g_fallback_slots[(h + i) % kFallbackSlots];
    uint64_t sh = s.hash.load(std::memory_order_acquire);
    if (sh == h && same_key(s, family, backend, why)) {
      s.count.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (sh == 0) break;  // not in the table yet
  }
  std::lock_guard<std::mutex> g(g_fallback_insert_mutex);
  for (size_t i = 0; i < kFallbackSlots; ++i) {
    FallbackSlot& s = g_fallback_slots[(h + i) % kFallbackSlots];
    uint64_t sh = s.hash.load(std::memory_order_relaxed);  // slots are written under this mutex only
    if (sh == h && same_key(s, family, backend, why)) {
      s.count.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (sh == 0) {
      s.family = family, s.backend = backend, s.why = why;
      s.count.store(1, std::memory_order_relaxed);
      s.hash.store(h, std::memory_order_release);
      return;
    }
  }
  g_fallback_overflow.fetch_add(1, std::memory_order_relaxed);
}

bool aligned_param(const char* name) {
  std::string_view n(name);
  // mirrors kernels/triton/__init__.py: aligned_param
  return n.ends_with("_ptr") || n.ends_with("_stride") || n.starts_with("stride_") || n == "n_cols" || n == "n" ||
         n == "n_m" || n == "n_n" || n == "n_k";
}

int sm_count(int device) {
#if VT_CUDA
  static std::atomic<int> counts[64] = {};
  VT_CHECK(device >= 0 && device < 64, "kernel suite: no CUDA device ", device);
  int n = counts[device].load(std::memory_order_relaxed);
  if (n == 0) {
    VT_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
    counts[device].store(n, std::memory_order_relaxed);
  }
  return n;
#else
  (void)device;
  return 132;  // an H100's, for CPU-side tests of grid sizing
#endif
}

// The family's own backend (Note [Backend per family]), not kernels.backend alone: a family given cute
// while the policy says triton launches its CuTe DSL kernel.
Launch::Launch(const KernelDecl& k, const Tensor& on) : k_(k), backend_(backend_for(k.family)) {
  VT_CHECK(backend_ != Backend::native, "kernel suite: ", k.name, " was launched while its family ", k.family,
           " runs natively (ask selected() first)");
  VT_CHECK(k.params.size() <= size_t(kMaxParams) && k.constants.size() <= size_t(kMaxConstants), "kernel suite: ",
           k.name, " declares more parameters than the launcher holds");
  key_.device = int16_t(on.defined() && on.device().is_cuda() ? on.device().index : -1);
  key_.backend = int16_t(backend_);
}

void Launch::expect(Arg kind, const char* what) {
  VT_CHECK(n_params_ < int(k_.params.size()), "kernel suite: ", k_.name, " takes ", k_.params.size(),
           " parameters; a ", what, " is one too many");
  const Param& p = k_.params[n_params_];
  VT_CHECK(p.kind == kind, "kernel suite: parameter ", n_params_, " (", p.name, ") of ", k_.name,
           " is not a ", what);
  ptrs_[n_params_] = &slots_[n_params_];
}

Launch& Launch::ptr(const Tensor& t) {
  expect(Arg::ptr, "pointer");
  VT_CHECK(t.device().is_cuda() == (key_.device >= 0) && (key_.device < 0 || t.device().index == key_.device),
           "kernel suite: ", k_.name, " got a tensor on ", t.device(), " for ", k_.params[n_params_].name);
  slots_[n_params_] = uint64_t(reinterpret_cast<uintptr_t>(t.data_ptr()));
  aligned_ = aligned_ && slots_[n_params_] % 16 == 0;
  key_.dtypes[n_params_++] = int8_t(int(t.dtype()) + 1);
  return *this;
}

Launch& Launch::null(DType dtype) {
  expect(Arg::ptr, "pointer");
  slots_[n_params_] = 0;
  key_.dtypes[n_params_++] = int8_t(int(dtype) + 1);
  return *this;
}

Launch& Launch::i32(int64_t v) {
  expect(Arg::i32, "32-bit integer");
  VT_CHECK(v >= INT32_MIN && v <= INT32_MAX, "kernel suite: ", k_.params[n_params_].name, " of ", k_.name, " is ", v,
           ", which does not fit the kernel's 32-bit parameter");
  int32_t x = int32_t(v);
  aligned_ = aligned_ && (v % 16 == 0 || !aligned_param(k_.params[n_params_].name));
  slots_[n_params_] = 0;  // the slot's upper half is not read by the kernel, but tests compare slots
  std::memcpy(&slots_[n_params_++], &x, sizeof x);
  return *this;
}

Launch& Launch::i64(int64_t v) {
  expect(Arg::i64, "64-bit integer");
  aligned_ = aligned_ && (v % 16 == 0 || !aligned_param(k_.params[n_params_].name));
  std::memcpy(&slots_[n_params_++], &v, sizeof v);
  return *this;
}

Launch& Launch::f32(double v) {
  expect(Arg::f32, "float");
  float x = float(v);
  slots_[n_params_] = 0;
  std::memcpy(&slots_[n_params_++], &x, sizeof x);
  return *this;
}

Launch& Launch::constant(int64_t v) {
  VT_CHECK(n_constants_ < int(k_.constants.size()), "kernel suite: ", k_.name, " takes ", k_.constants.size(),
           " constexpr parameters; one more was given");
  key_.constants[n_constants_++] = v;
  return *this;
}

Launch& Launch::warps(int n) {
  VT_CHECK(n >= 1 && n <= 32 && (n & (n - 1)) == 0, "kernel suite: ", k_.name, ": warps must be a power of two in [1, 32], got ", n);
  key_.warps = int16_t(n);
  return *this;
}

Launch& Launch::stages(int n) {
  VT_CHECK(n >= 1 && n <= 8, "kernel suite: ", k_.name, ": stages must be in [1, 8], got ", n);
  key_.stages = int16_t(n);
  return *this;
}

void Launch::check_complete() const {
  VT_CHECK(n_params_ == int(k_.params.size()) && n_constants_ == int(k_.constants.size()), "kernel suite: ",
           k_.name, " takes ", k_.params.size(), " parameters and ", k_.constants.size(), " constexprs; the launch gave ",
           n_params_, " and ", n_constants_);
}

const Compiled* Launch::resolve() {
  check_complete();
  key_.aligned = int16_t(aligned_);
  if (const Compiled* c = k_.table.find(key_)) [[likely]] {
    probes::count(probes::Counter::kernel_cache_hits);
    return c;
  }
  probes::count(probes::Counter::kernel_cache_misses);
  if (compiles_deferred()) {
    defer(k_, key_, backend_);
    fallback(k_.family, "compile deferred (this thread may not take the GIL now)");
    return nullptr;
  }
  return compile_and_publish(k_, key_, backend_);
}

PythonLaunch Launch::python_request(int64_t grid_x, int64_t grid_y, int64_t grid_z, uintptr_t stream) const {
  check_complete();
  PythonLaunch r;
  r.backend = backend_name(backend_);
  r.family = k_.family;
  r.kernel = k_.name;
  r.args.reserve(n_params_);
  for (int i = 0; i < n_params_; ++i) {
    Arg kind = k_.params[i].kind;
    r.args.push_back({kind, slots_[i], kind == Arg::ptr ? std::string(dtype_name(DType(key_.dtypes[i] - 1))) : ""});
  }
  for (int i = 0; i < n_constants_; ++i) r.constants.emplace_back(k_.constants[i], key_.constants[i]);
  r.warps = key_.warps;
  r.stages = key_.stages;
  r.device = key_.device;
  r.grid[0] = grid_x, r.grid[1] = grid_y, r.grid[2] = grid_z;
  r.stream = stream;
  r.aligned = aligned_;
  return r;
}

bool Launch::run(int64_t grid_x, int64_t grid_y, int64_t grid_z) {
#if VT_CUDA
  VT_CHECK(key_.device >= 0, "kernel suite: ", k_.name, " launches on CUDA tensors only");
  VT_CHECK(grid_x >= 0 && grid_x < (int64_t(1) << 31) && grid_y >= 0 && grid_y < 65536 && grid_z >= 0 && grid_z < 65536,
           "kernel suite: the grid ", grid_x, "x", grid_y, "x", grid_z, " of ", k_.name, " is out of CUDA's range");
  slots_[n_params_] = slots_[n_params_ + 1] = 0;  // Triton's global and profile scratch pointers: null
  ptrs_[n_params_] = &slots_[n_params_];
  ptrs_[n_params_ + 1] = &slots_[n_params_ + 1];
  cudaStream_t s = cuda::current_stream(key_.device).handle();
  std::atomic<uint64_t>* instead_of_python = nullptr;  // counted once the C++ launch happened
  if (policy::kernels_launch.get() == policy::KernelsLaunch::python) [[unlikely]] {
    // Note [Python kernel launch]: no lock of ours is held while Python runs.
    if (compiles_deferred()) {
      instead_of_python = &k_.cpp_not_gil;
    } else if (!has_python_launcher()) {
      instead_of_python = &k_.cpp_no_launcher;
    } else {
      if (grid_x * grid_y * grid_z > 0)
        launch_from_python(python_request(grid_x, grid_y, grid_z, reinterpret_cast<uintptr_t>(s)));
      k_.python_launches.fetch_add(1, std::memory_order_relaxed);
      k_.launches[int(backend_)].fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  auto go = [&](const Compiled* c) {
    if (grid_x * grid_y * grid_z == 0) return;
    cuda::launch_function(c->function, unsigned(grid_x), unsigned(grid_y), unsigned(grid_z), unsigned(c->threads), s, ptrs_);
  };
  if (policy::kernels_cache.get() == policy::KernelsCache::locked) {
    check_complete();
    key_.aligned = int16_t(aligned_);
    std::unique_lock<probes::InstrumentedMutex> g(cache_lock());
    const Compiled* c = k_.table.find(key_);
    if (c) {
      probes::count(probes::Counter::kernel_cache_hits);
    } else {
      g.unlock();  // a miss compiles outside the lock (Note [Suite compiles and the GIL])
      if (!(c = resolve())) return false;
      g.lock();
    }
    go(c);
  } else {
    const Compiled* c = resolve();
    if (!c) return false;
    go(c);
  }
  k_.launches[int(backend_)].fetch_add(1, std::memory_order_relaxed);
  if (instead_of_python) instead_of_python->fetch_add(1, std::memory_order_relaxed);
  return true;
#else
  (void)grid_x, (void)grid_y, (void)grid_z;
  VT_CHECK(false, "kernel suite: ", k_.name, " cannot launch: this vibetensor was built without CUDA");
  return false;
#endif
}

std::vector<FamilyReport> report() {
  std::vector<const KernelDecl*> all = declarations();
  std::lock_guard<std::mutex> g(g_report_mutex);
  std::map<std::pair<std::string, std::string>, uint64_t> launched;
  for (const KernelDecl* k : all)
    for (int b = 0; b < int(policy::kernels_backend.values().size()); ++b)
      if (uint64_t n = k->launches[b].load(std::memory_order_relaxed))
        launched[{k->family, policy::kernels_backend.values()[b]}] += n;
  // kernels.launch=python (Note [Python kernel launch]): the launches of a family split by path.
  std::map<std::string, uint64_t> python, not_gil, no_launcher;
  for (const KernelDecl* k : all) {
    python[k->family] += k->python_launches.load(std::memory_order_relaxed);
    not_gil[k->family] += k->cpp_not_gil.load(std::memory_order_relaxed);
    no_launcher[k->family] += k->cpp_no_launcher.load(std::memory_order_relaxed);
  }
  std::vector<FamilyReport> out;
  for (auto& [fb, n] : launched) {
    const std::string& f = fb.first;
    uint64_t py = python[f], ng = not_gil[f], nl = no_launcher[f];
    uint64_t cpp = n - std::min(n, py + ng + nl);
    if (cpp) out.push_back({f, fb.second, "", cpp, "cpp"});
    if (py) out.push_back({f, fb.second, "", py, "python"});
    if (ng) out.push_back({f, fb.second, "", ng, "cpp (kernels.launch=python, but this thread may not take the GIL now)"});
    if (nl) out.push_back({f, fb.second, "", nl, "cpp (kernels.launch=python, but no Python launcher is registered)"});
  }
  for (const FallbackSlot& s : g_fallback_slots)
    if (s.hash.load(std::memory_order_acquire) != 0)
      if (uint64_t n = s.count.load(std::memory_order_relaxed)) out.push_back({s.family, s.backend, s.why, n});
  if (uint64_t n = g_fallback_overflow.load(std::memory_order_relaxed))
    out.push_back({"?", backend_name(policy::kernels_backend.get()), "more distinct fallback reasons than the report holds", n});
  return out;
}

void reset_report() {
  std::vector<const KernelDecl*> all = declarations();
  std::lock_guard<std::mutex> g(g_report_mutex);
  for (FallbackSlot& s : g_fallback_slots) s.count.store(0, std::memory_order_relaxed);
  g_fallback_overflow.store(0, std::memory_order_relaxed);
  for (const KernelDecl* k : all) {
    for (auto& n : k->launches) n.store(0, std::memory_order_relaxed);
    k->python_launches.store(0, std::memory_order_relaxed);
    k->cpp_not_gil.store(0, std::memory_order_relaxed);
    k->cpp_no_launcher.store(0, std::memory_order_relaxed);
  }
}

}  // namespace vt::suite
