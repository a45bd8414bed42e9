#pragma once
// Tensor-level CUDA helpers used by the Python bindings: reading one element to the host and
// marking a tensor's memory as used by another stream.
#include "core/scalar.h"
#include "core/tensor.h"
#include "cuda/stream.h"

namespace vt::cuda {

// The value of a one-element tensor. On a CUDA device this copies it to the host and waits
// (sync ledger "item").
Scalar item(const Tensor& t);

// The tensor's memory is also used by work queued on `s`: the allocator does not reuse it after
// the tensor dies until that work completes (Note [CUDA allocators]).
void record_stream(const Tensor& t, const Stream& s);

}  // namespace vt::cuda
