#pragma once
// vt::rotary_embedding: argument checks and the math on ops that every device can run.
// See Note [Rotary embedding].
#include "ops/ops.h"

namespace vt {

// Note [Rotary embedding]
// A GPT applies RoPE to its queries and keys: with x1, x2 the two halves of the last dim,
// y = cat(x1 * cos - x2 * sin, x1 * sin + x2 * cos). Composed from ops (as torch users write it) that
// is two slices, four products, a difference, a sum and a cat: six kernels forward and about twice as
// many backward, per tensor, per layer. vt::rotary_embedding is one op: its CUDA kernel under
// kernels.backend=triton is one Triton kernel (kernels/triton/rotary.py) that reads x through its
// strides (the [B, H, T, D] view a qkv projection is permuted into needs no copy) and writes a
// contiguous result; the backward is the same kernel rotating by the opposite angle (inverse=True).
// Elsewhere (CPU, native backend, shapes the kernel lacks, a deferred compile) it runs the same
// math on ops. The result has the promoted dtype of x and cos, as the composed formula does.
struct RotaryArgs {
  int64_t T = 0, D = 0;
  DType out = DType::Float32;
};

// Checks that self is floating (..., T, D) with D even and cos, sin floating (T, D / 2) of one dtype
// on self's device; TypeError / ValueError naming what was given otherwise.
RotaryArgs check_rotary_args(const char* op, const Tensor& self, const Tensor& cos, const Tensor& sin);

Tensor rotary_math(const Tensor& self, const Tensor& cos, const Tensor& sin, bool inverse);

}  // namespace vt
