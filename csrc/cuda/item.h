#pragma once
// Reading a one-element tensor to the host (Tensor.item()).
#include "core/scalar.h"
#include "core/tensor.h"

namespace vt::cuda {

// The value of a one-element tensor. On a CUDA device this copies it to the host and waits
// (sync ledger "item").
Scalar item(const Tensor& t);

}  // namespace vt::cuda
