#pragma once
// The Philox counters of one random CUDA op: reserved from the host generator when the op runs
// eagerly, or taken from the CUDA graph being captured, whose replays write a fresh seed and base
// offset to the device first. See Note [Random numbers under capture] in cuda/capture_state.h.
#include <cstdint>

#include "cuda/capture_state.h"
#include "ops/random/philox.h"

namespace vt::cuda_kernels {

struct RandomCounters {
  uint64_t seed;
  uint64_t offset;
  const uint64_t* state;  // under capture: the graph's {seed, base offset}; nullptr eagerly

  __device__ uint64_t key() const { return state ? state[0] : seed; }
  __device__ uint64_t counter(uint64_t i) const { return (state ? state[1] : 0) + offset + i; }
};

// n counters for an op about to launch on the calling thread's current stream.
inline RandomCounters random_counters(uint64_t n) {
  if (cuda::CaptureRandom* c = cuda::capture_random()) {
    uint64_t first = c->consumed;
    c->consumed += n;
    return {0, first, c->state};
  }
  uint64_t offset = random::reserve(n);
  return {random::seed(), offset, nullptr};
}

}  // namespace vt::cuda_kernels
