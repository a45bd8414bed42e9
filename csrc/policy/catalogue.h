#pragma once
// The policy catalogue: one global Policy per switch, and an enum per policy whose order
// matches its values (index 0 is the tuned default). See Note [Policies] in catalogue.cpp.
#include "policy/registry.h"

namespace vt::policy {

enum class DispatchLookup { handle, locked_map };
enum class StackCopy { off, on };
enum class AutogradGate { per_graph, none, global };
enum class AutogradGil { released, held };
enum class AutogradWorkers { caller, pool, spawn };
enum class AutogradRouting { worker, owner };
enum class AllocCuda { caching, async, direct };
enum class AllocSplit { on, off };
enum class AllocSegments { batched, per_request };
enum class AllocLock { per_device, global };
enum class ScalarsCuda { kernel_arg, device_copy };
enum class KernelsCache { lockfree, locked };
enum class OptimStep { multi_tensor, per_param };
enum class ChecksCudaIndex { device_assert, sync };
enum class ProbesNvtx { off, coarse, fine };
enum class ProbesLocks { off, on };
enum class ProbesCounters { off, on };
enum class ProbesTrace { off, on };

extern Policy dispatch_lookup, dispatch_stack_copy;
extern Policy autograd_gate, autograd_gil, autograd_workers, autograd_routing;
extern Policy alloc_cuda, alloc_split, alloc_segments, alloc_lock;
extern Policy scalars_cuda, kernels_cache, optim_step;

extern Policy checks_cuda_index;
extern Policy probes_nvtx, probes_locks, probes_counters, probes_trace;

}  // namespace vt::policy
