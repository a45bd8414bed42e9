// See cuda/random_state.h.
#include "cuda/random_state.h"

#include "cuda/status_check.h"

namespace vt::cuda {
namespace {

__global__ void write_random_state_kernel(uint64_t* state, uint64_t seed, uint64_t offset) {
  state[0] = seed;
  state[1] = offset;
}

}  // namespace

void write_random_state(uint64_t* state, uint64_t seed, uint64_t offset, cudaStream_t stream) {
  write_random_state_kernel<<<1, 1, 0, stream>>>(state, seed, offset);
  VT_CUDA_CHECK(cudaGetLastError());
}

}  // namespace vt::cuda
