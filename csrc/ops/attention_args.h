#pragma once
// What the fused attention kernels take (Note [Fused attention] in kernels/triton/attention.py),
// shared by the CUDA kernels of vt::_fused_attention / _fused_attention_backward, which raise on
// anything else, and by scaled_dot_product_attention's routing, which falls back to its math path.
#include <string>

#include "core/tensor.h"

namespace vt {

inline bool fused_attention_head_dim(int64_t d) { return d == 16 || d == 32 || d == 64 || d == 128; }

// "" when query, key and value are what the kernels take: 4-D [B, H, T, D] of one shape, D in
// {16, 32, 64, 128}, one dtype of float32 / bfloat16 / float16, the last dim contiguous, one CUDA
// device, B * H within the grid; else why not, in one sentence.
std::string fused_attention_unsupported(const Tensor& query, const Tensor& key, const Tensor& value);

}  // namespace vt
