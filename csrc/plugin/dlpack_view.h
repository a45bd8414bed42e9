#pragma once
// Tensors as the DLPack descriptions a plugin kernel reads (borrowed: valid while the tensor lives),
// and DLPack dtypes as vibetensor's. See Note [Plugin ops] in plugin/loader.h.
#include "core/tensor.h"
#include "plugin/vt_plugin.h"

namespace vt::plugin {

// A DLTensor over a tensor's memory, with its own shape and stride arrays (in elements).
struct DLView {
  DLTensor dl{};
  int64_t shape[VT_PLUGIN_MAX_DIMS] = {};
  int64_t strides[VT_PLUGIN_MAX_DIMS] = {};
};

// Fills `v` for t (at most VT_PLUGIN_MAX_DIMS dims: else a ValueError naming `op`). `v` must not move
// afterwards: v.dl points into it.
void describe(const Tensor& t, DLView& v, const std::string& op);

DLDataType dl_dtype(DType d);
// The vibetensor dtype of a DLPack dtype; a ValueError naming `op` for one vibetensor lacks.
DType dtype_of(DLDataType d, const std::string& op);

}  // namespace vt::plugin
