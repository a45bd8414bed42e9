#pragma once
// The compilers of the kernel suite's backends, registered from Python (vibetensor.kernels
// registers Triton's): C++ calls one on the first launch of a specialization and keeps the image.
// See Note [Suite compiles and the GIL].
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/gil_free_thread.h"
#include "policy/catalogue.h"

namespace vt::suite {

using Backend = policy::KernelsBackend;
const char* backend_name(Backend b);

struct CompileRequest {
  std::string backend, family, kernel;
  std::vector<std::pair<std::string, std::string>> signature;  // (parameter, "*fp32" | "i32" | "i64" | "fp32")
  std::vector<std::pair<std::string, int64_t>> constants;      // (constexpr parameter, value)
  int warps = 4, stages = 3;
  int cc_major = 9, cc_minor = 0;
  bool aligned = false;  // compile the aligned variant (Note [Aligned variants])
};

struct CompiledImage {
  std::string image;   // cubin bytes
  std::string symbol;  // the kernel's name in the image
  int shared_bytes = 0;
  int warps = 4;
  int64_t global_scratch_bytes = 0;  // the launcher passes null scratch pointers, so these must be 0
  int64_t profile_scratch_bytes = 0;
};

using Compiler = std::function<CompiledImage(const CompileRequest&)>;

// Registers (or, with an empty function, removes) the compiler of `b`. `families`: the families it has
// kernels for (empty: every family); backend_for runs the others natively and records why.
void set_compiler(Backend b, Compiler c, std::vector<std::string> families = {});
bool has_compiler(Backend b);
// Whether the compiler registered for `b` serves `family` (a lock-free read; false when none is registered).
bool serves(Backend b, const char* family);
// Runs the compiler of `b`; a compiler that fails raises, and its message names the kernel and the
// specialization.
CompiledImage compile(Backend b, const CompileRequest& r);

// Note [Suite compiles and the GIL]
// The compilers are Python functions, so a compile takes the GIL. A thread that must not wait for
// the GIL (a backward worker, or the routing owner thread of autograd.routing=owner, while the caller
// holds it through backward: autograd.gil=held, Note [GIL during backward]) marks itself with
// GilFreeThread (it also launches from C++ under kernels.launch=python: Note [Python kernel launch]).
// The owner thread was once left unmarked: under kernels.scope=all its gradient additions are suite
// ops, and the vibe preset's first backward deadlocked on the GIL (seen on an H100, 2026-12-07).
// A marked thread's miss is queued, the launch falls back to the native kernel (recorded as
// "compile deferred"), and whoever holds the GIL next at a safe point (the end of backward in
// csrc/python) compiles the queue, so later steps launch the suite's kernel. No C++ lock is held
// while a compiler runs, so a thread holding the GIL and waiting for a lock of ours cannot deadlock
// with one compiling. The mark is core's GilFreeThread (Note [Threads that may not take the GIL]).
bool compiles_deferred();

}  // namespace vt::suite
