#pragma once
// kernels.launch=python: a suite kernel launched through Python instead of the driver from C++.
// See Note [Python kernel launch].
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ops/suite/kernel_decl.h"

namespace vt::suite {

// Note [Python kernel launch]
// VibeTensor's ops that run Triton kernels are Python functions (python/vibetensor/triton.py and
// the vibe_kernels package of NVlabs/vibetensor): each call packs its arguments in Python, looks
// the kernel up in a Python-side cache under a module lock, and launches it through Triton's own
// Python launcher (JITFunction.run: binding the arguments, computing the specialization key,
// reading its device cache, then the C launcher). Under kernels.launch=python a suite launch does
// the same work: the op, still in C++, takes the GIL and hands the kernel's name, its arguments in
// declaration order (pointers with their dtypes, integers, floats), its constexprs, warps, stages,
// grid, device and stream to the launcher registered from Python (kernels/python_launch.py), which
// looks the kernel up in a kernels/cache.py KernelCache (kernels.cache applies) and launches it
// with kernel[grid](...) on vibetensor's current stream (kernels/triton_runtime.py). The kernel and
// its grid are the same as on the C++ path; only the host path differs.
// A thread that may not take the GIL (Note [Suite compiles and the GIL]) launches from C++ instead,
// and the report counts those launches apart ("launched from C++: ...").

struct PythonLaunchArg {
  Arg kind;
  uint64_t bits;     // the slot: a pointer, an integer, or a float's bits
  std::string dtype;  // pointers: the pointee's dtype name ("float32", ...)
};

struct PythonLaunch {
  std::string backend, family, kernel;
  std::vector<PythonLaunchArg> args;                       // in the declaration's order
  std::vector<std::pair<std::string, int64_t>> constants;  // (constexpr parameter, value)
  int warps = 4, stages = 3, device = -1;
  int64_t grid[3] = {1, 1, 1};
  uintptr_t stream = 0;
  bool aligned = false;  // the aligned variant's conditions hold (Note [Aligned variants])
};

using PythonLauncher = std::function<void(const PythonLaunch&)>;

// Registers (or, with an empty function, removes) the launcher kernels.launch=python calls.
void set_python_launcher(PythonLauncher l);
bool has_python_launcher();
// Calls the registered launcher; raises when none is registered or when it fails.
void launch_from_python(const PythonLaunch& l);

}  // namespace vt::suite
