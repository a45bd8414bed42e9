#pragma once
// Launching a kernel of the suite from a CUDA op, without Python on the per-op path.
// See Note [Kernel suite launch path].
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/tensor.h"
#include "ops/suite/compiler.h"
#include "ops/suite/kernel_decl.h"
#include "ops/suite/python_launch.h"

namespace vt::suite {

// Note [Kernel suite launch path]
// kernels.backend picks who runs a family's CUDA ops: the native CUDA kernels (ops/cuda), or the
// suite's Triton kernels (kernels/triton). An op that has a suite kernel asks selected(family)
// first; if the shape or dtype is one the suite kernel lacks, it records fallback(family, why) and
// runs its native kernel, so `vt.kernels` reports say which backend ran what.
// A suite launch is C++ only after the first one of a specialization:
// 1. Launch collects the arguments in the declaration's order into a pre-laid buffer (one 8-byte
//    slot per parameter, the pointer array cuLaunchKernel reads, then Triton's two scratch
//    pointers, null), and the specialization key: pointer dtypes, constexprs, warps, device;
// 2. the kernel's SpecTable is read without a lock (Note [Specialization table]); a miss calls the
//    backend's compiler, registered from Python (vibetensor.kernels: Triton's compile with an
//    explicit signature, cached on disk between processes), loads the cubin through the driver
//    (cuda/driver_module.h) and publishes it;
// 3. cuLaunchKernel on the device's current stream.
// Under kernels.launch=python, step 3 (and Triton's own lookup) runs in Python instead (Note
// [Python kernel launch]).
// Under kernels.cache=locked, steps 2 and 3 run under the process-wide "kernels.cache" mutex, as
// VibeTensor's kernel caches do; the compile itself never runs under it.

// The backend kernels.backend selects for `family` now: native when the policy says native or when
// the selected backend has no compiler registered (recorded as a fallback: import vibetensor.kernels).
Backend backend_for(const char* family);
// Gives `family` its own backend (nullopt: follow kernels.backend again). Note [Backend per family].
void set_family_backend(const std::string& family, std::optional<Backend> backend);
std::vector<std::pair<std::string, std::string>> family_backends();  // (family, backend) set
inline bool selected(const char* family) { return backend_for(family) != Backend::native; }
// Records that an op of `family` ran its native kernel although a suite backend was selected.
void fallback(const char* family, std::string_view why);  // a literal costs no allocation
// The device's number of streaming multiprocessors (cached), for kernels that size their grid by it.
int sm_count(int device);

class Launch {
 public:
  // Launches on `on`'s device; the declaration's family must be selected (backend_for).
  Launch(const KernelDecl& k, const Tensor& on);
  Launch& ptr(const Tensor& t);   // a pointer parameter; t's dtype joins the specialization
  Launch& null(DType dtype);      // a pointer parameter the kernel will not read (a flag is off)
  Launch& i32(int64_t v);
  Launch& i64(int64_t v);
  Launch& f32(double v);
  Launch& constant(int64_t v);    // the next constexpr parameter
  Launch& warps(int n);
  Launch& stages(int n);

  // Launches on the current stream of the device with `threads` = 32 * warps. False when the
  // specialization could not be compiled on this thread now (deferred) and the caller must run
  // its native kernel.
  bool run(int64_t grid_x, int64_t grid_y = 1, int64_t grid_z = 1);

  // The parts run() uses, for tests: the specialization, the argument buffer, its entry (compiled
  // on a miss, loaded only for a CUDA device; nullptr when deferred).
  const SpecKey& key() const { return key_; }
  const uint64_t* slots() const { return slots_; }
  int filled() const { return n_params_; }
  const Compiled* resolve();
  // What kernels.launch=python hands to the Python launcher for this launch.
  PythonLaunch python_request(int64_t grid_x, int64_t grid_y, int64_t grid_z, uintptr_t stream) const;

 private:
  void expect(Arg kind, const char* what);
  void check_complete() const;

  const KernelDecl& k_;
  Backend backend_;
  bool aligned_ = true;
  SpecKey key_;
  int n_params_ = 0, n_constants_ = 0;
  // Filled slot by slot as the arguments come (not zeroed up front: a launch is on the per-op path).
  uint64_t slots_[kMaxParams + 2];
  void* ptrs_[kMaxParams + 2];
};

// One line per family that ran or fell back: backend launches and fallback reasons.
struct FamilyReport {
  std::string family, backend, reason;  // reason "" for launches
  uint64_t count = 0;
  std::string launch = "cpp";  // launches: "cpp" or "python" (kernels.launch)
};
std::vector<FamilyReport> report();
void reset_report();

}  // namespace vt::suite
