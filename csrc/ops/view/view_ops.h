#pragma once
// View ops: device-independent geometry over shared storage. The functions are registered as
// the CPU and CUDA kernels of the view ops; autograd kernels live in autograd/formulas/views.cpp.
#include "ops/ops.h"

namespace vt::views {

// The strides a view of `sizes` needs to alias a tensor of (old_sizes, old_strides) without a
// copy; nullopt when no such strides exist (then reshape copies).
std::optional<DimVector> compute_view_strides(IntArrayRef old_sizes, IntArrayRef old_strides, IntArrayRef sizes);
// Resolves one -1 in a requested shape against numel; ValueError when impossible.
DimVector infer_size(IntArrayRef shape, int64_t numel, const char* op);

Tensor view(const Tensor& self, const IntList& size);
Tensor permute(const Tensor& self, const IntList& dims);
Tensor slice(const Tensor& self, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step);
Tensor select(const Tensor& self, int64_t dim, int64_t index);
Tensor expand(const Tensor& self, const IntList& size);
Tensor squeeze(const Tensor& self, const std::optional<IntList>& dim);
Tensor unsqueeze(const Tensor& self, int64_t dim);
Tensor as_strided(const Tensor& self, const IntList& size, const IntList& stride, std::optional<int64_t> storage_offset);

}  // namespace vt::views
