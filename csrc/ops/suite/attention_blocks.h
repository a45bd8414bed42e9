#pragma once
// The block choices of the attention family's Triton kernels, mirrored exactly from the config_*
// functions of kernels/triton/attention.py (Note [Attention blocks] there): the Python side compiles
// what these choose, so the two must agree; tests/test_kernel_suite.py compares them over many shapes.
#include <cstdint>

namespace vt::suite {

struct AttentionBlocks {
  int m, n, warps, stages;
  bool operator==(const AttentionBlocks&) const = default;
};

inline AttentionBlocks attn_fwd_blocks(int64_t T, int64_t D, int bytes, bool causal) {
  if (bytes == 4) {
    if (D > 32) return {32, 32, D == 128 ? 8 : 4, 2};
    return T <= 64 ? AttentionBlocks{64, 64, 4, 2} : AttentionBlocks{128, 16, 2, 2};
  }
  if (T >= 1024 && !causal) return {128, 128, 8, 3};
  return {64, 64, 4, 3};
}

inline AttentionBlocks attn_bwd_pre_blocks() { return {64, 0, 4, 1}; }

inline AttentionBlocks attn_bwd_dkdv_blocks(int64_t T, int64_t D, int bytes, bool causal) {
  if (bytes == 4) {
    if (D > 32) return {D == 128 ? 16 : 32, 32, 8, 2};
    if (T <= 64) return {64, 64, 4, 1};
    return causal ? AttentionBlocks{32, 32, 4, 1} : AttentionBlocks{16, 64, 2, 3};
  }
  return {64, 64, 4, 2};
}

inline AttentionBlocks attn_bwd_dq_blocks(int64_t T, int64_t D, int bytes) {
  if (bytes == 4) {
    if (D > 32) return {32, 32, D == 128 ? 8 : 4, 2};
    return T <= 64 ? AttentionBlocks{64, 64, 4, 1} : AttentionBlocks{128, 16, 2, 2};
  }
  return {128, 64, 8, 3};
}

}  // namespace vt::suite
