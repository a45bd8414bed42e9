#pragma once
// A compiled specialization of a suite kernel, and the pending compiles of threads that could not
// compile (Note [Suite compiles and the GIL]).
#include <string>

#include "ops/suite/compiler.h"
#include "ops/suite/kernel_decl.h"
#if VT_CUDA
#include "cuda/driver_module.h"
#endif

namespace vt::suite {

struct Compiled {
  SpecKey key;
  std::string symbol;
  int image_bytes = 0;
  int threads = 128;
  int shared_bytes = 0;
#if VT_CUDA
  cuda::DriverFunction function;  // loaded on key.device; unset before the first launch there
#endif
};

// The request that compiles `key` of `k` (signature from the declaration and the key's dtypes).
CompileRequest make_request(const KernelDecl& k, const SpecKey& key, Backend b, int cc_major, int cc_minor);

// Compiles `key` of `k` now (the caller may take the GIL), loads it on key.device when that is a
// CUDA device, and publishes it. Returns the entry in the table.
const Compiled* compile_and_publish(const KernelDecl& k, const SpecKey& key, Backend b);

// Queues `key` of `k` for compile_pending(); duplicates are dropped.
void defer(const KernelDecl& k, const SpecKey& key, Backend b);
// Compiles every queued specialization; returns how many. Call with the GIL obtainable.
int compile_pending();
int pending_count();

}  // namespace vt::suite
