#pragma once
// The CPU backend's memory: 64-byte aligned blocks from the C heap (so vectorized loops and BLAS
// see aligned rows). allocate_storage uses them directly, or through the CPU allocator set with
// set_device_allocator: probes/cpu_alloc_ranges.cpp sets one that wraps them in allocation
// ranges (core cannot see the probes, which sit a layer above).
#include <cstddef>

namespace vt {

void* cpu_malloc(size_t nbytes);  // nullptr for 0 bytes; raises out of memory
void cpu_free(void* p) noexcept;

}  // namespace vt
