#include "policy/catalogue.h"

namespace vt::policy {

// Note [Policies]
// Each policy names a real mechanism. The first value is the tuned default; the "vibe" value
// reproduces a serialization point of the VibeTensor runtime (arXiv 2601.16238). Policies that
// shape long-lived state (the CUDA allocator strategy) are fixed at first use.
// Definition order is registration order, which describe() follows.

Policy dispatch_lookup("dispatch.lookup", {"handle", "locked_map"},
    "how an op call finds its kernels: a pre-resolved handle, or a by-name lookup under a mutex on every call",
    "VibeTensor's by-name boxed op calls (mutex + string-hash map lookup per op)", false);
Policy dispatch_stack_copy("dispatch.stack_copy", {"off", "on"},
    "every boxed call copies its argument stack so it can roll back on error",
    "VibeTensor's boxed call path copying the IValue stack", false);
Policy autograd_gate("autograd.gate", {"per_graph", "none", "global"},
    "serialization of backward passes: a lock per graph task, none, or one process-wide mutex held for the whole backward",
    "VibeTensor's process-wide backward gate", false);
Policy autograd_gil("autograd.gil", {"released", "held"},
    "whether the GIL is released while the C++ engine runs backward",
    "VibeTensor holding the GIL through backward", false);
Policy autograd_workers("autograd.workers", {"caller", "pool", "spawn"},
    "which threads run backward: the calling thread, a persistent pool, or threads created and joined per backward",
    "VibeTensor spawning engine threads per backward call", false);
Policy autograd_routing("autograd.routing", {"worker", "owner"},
    "where gradients are routed and accumulated: by the worker running a node, or funnelled through one owner thread",
    "VibeTensor routing all gradient accumulation through one owner thread", false);
Policy alloc_cuda("alloc.cuda", {"caching", "async", "direct"},
    "CUDA allocator strategy: caching free lists, cudaMallocAsync pool, or cudaMalloc/cudaFree per tensor",
    "", true);
Policy alloc_split("alloc.split", {"on", "off"},
    "caching allocator: split large cached blocks to serve smaller requests, or reuse blocks whole",
    "VibeTensor's caching allocator reusing cached blocks whole", true);
Policy alloc_segments("alloc.segments", {"batched", "per_request"},
    "caching allocator: grow the pool in large segments, or one cudaMalloc per rounded request",
    "VibeTensor's one cudaMalloc per rounded request", true);
Policy alloc_lock("alloc.lock", {"per_device", "global"},
    "allocator locking: one mutex per device, or a process-wide mutex plus a global metadata lock on every alloc/free",
    "VibeTensor's global allocator mutex and metadata lock", false);
Policy scalars_cuda("scalars.cuda", {"kernel_arg", "device_copy"},
    "a Python scalar given to a CUDA op: passed as a kernel argument, or made a device tensor by a synchronous host-to-device copy",
    "VibeTensor turning Python scalars into device tensors with synchronous copies", false);
Policy kernels_cache("kernels.cache", {"lockfree", "locked"},
    "Python-side kernel caches: lock-free reads, or a module-global lock on every launch",
    "VibeTensor's locked kernel caches", false);
Policy optim_step("optim.step", {"multi_tensor", "per_param"},
    "optimizer step: one multi-tensor kernel per parameter group, or a Python loop of elementwise ops per parameter",
    "VibeTensor's hand-written optimizers updating each parameter with separate kernel launches from Python", false);
Policy checks_cuda_index("checks.cuda_index", {"device_assert", "sync"},
    "CUDA index checks (nll_loss, embedding): a bad index traps the kernel (no sync, as torch) or raises IndexError after a sync",
    "", false);
Policy probes_nvtx("probes.nvtx", {"off", "coarse", "fine"},
    "NVTX ranges: none, coarse (step, forward, backward, optimizer, backward engine), fine (every op, node, allocation, sync)",
    "(probe)", false);
Policy probes_locks("probes.locks", {"off", "on"},
    "instrumented mutexes record acquisitions, contentions, wait and hold times (/proc/lock_stat fields)",
    "(probe)", false);
Policy probes_counters("probes.counters", {"off", "on"},
    "event counters: ops dispatched, name lookups, allocator hits/misses, syncs, threads created, GIL-held time",
    "(probe)", false);
Policy probes_trace("probes.trace", {"off", "on"},
    "per-thread event rings of ops, backward nodes, allocations and syncs, exported as a Chrome/Kineto trace",
    "(probe)", false);

const std::map<std::string, std::map<std::string, std::string>>& presets() {
  static const std::map<std::string, std::map<std::string, std::string>> p = [] {
    std::map<std::string, std::map<std::string, std::string>> m;
    // tuned: the first value of every non-probe policy.
    for (Policy* pol : all())
      if (pol->name().rfind("probes.", 0) != 0) m["tuned"][pol->name()] = pol->values()[0];
    // vibe: the VibeTensor composition (see ../shared/design/policies-and-probes.md).
    m["vibe"] = {
        {"dispatch.lookup", "locked_map"}, {"dispatch.stack_copy", "on"},
        {"autograd.gate", "global"},       {"autograd.gil", "held"},
        {"autograd.workers", "spawn"},     {"autograd.routing", "owner"},
        {"alloc.cuda", "caching"},         {"alloc.split", "off"},
        {"alloc.segments", "per_request"}, {"alloc.lock", "global"},
        {"scalars.cuda", "device_copy"},   {"kernels.cache", "locked"},
        {"optim.step", "per_param"},
    };
    return m;
  }();
  return p;
}

}  // namespace vt::policy
