#pragma once
// Writing a captured graph's random state {seed, base offset} on a stream (Note [Random numbers under
// capture] in cuda/capture_state.h): a one-thread kernel that takes both words by value, so the write is
// asynchronous, ordered on the stream before the graph's launch, and needs no host buffer.
#include <cuda_runtime_api.h>

#include <cstdint>

namespace vt::cuda {

void write_random_state(uint64_t* state, uint64_t seed, uint64_t offset, cudaStream_t stream);

}  // namespace vt::cuda
