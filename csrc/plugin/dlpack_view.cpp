// See dlpack_view.h.
#include "plugin/dlpack_view.h"

namespace vt::plugin {

DLDataType dl_dtype(DType d) {
  switch (d) {
    case DType::Float32: return {kDLFloat, 32, 1};
    case DType::Float64: return {kDLFloat, 64, 1};
    case DType::Float16: return {kDLFloat, 16, 1};
    case DType::BFloat16: return {kDLBfloat, 16, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Int32: return {kDLInt, 32, 1};
    case DType::Bool: return {kDLBool, 8, 1};
  }
  return {kDLFloat, 32, 1};
}

DType dtype_of(DLDataType d, const std::string& op) {
  for (DType t : {DType::Float32, DType::Float64, DType::Float16, DType::BFloat16, DType::Int64, DType::Int32,
                  DType::Bool}) {
    DLDataType x = dl_dtype(t);
    if (x.code == d.code && x.bits == d.bits && x.lanes == d.lanes) return t;
  }
  detail::throw_error(ErrorKind::Value, op, ": the plugin asked for a result of DLPack dtype (code ", int(d.code),
                      ", bits ", int(d.bits), ", lanes ", d.lanes, "), which vibetensor does not have (expected one of "
                      "float32/64/16, bfloat16, int64, int32, bool)");
}

void describe(const Tensor& t, DLView& v, const std::string& op) {
  const int64_t nd = t.dim();
  VT_CHECK_VALUE(nd <= VT_PLUGIN_MAX_DIMS, op, ": plugin ops take tensors of at most ", VT_PLUGIN_MAX_DIMS,
                 " dims, got one of ", nd);
  for (int64_t i = 0; i < nd; ++i) v.shape[i] = t.size(i), v.strides[i] = t.stride(i);
  v.dl.data = t.data_ptr();
  v.dl.device = t.device().is_cuda() ? DLDevice{kDLCUDA, t.device().index} : DLDevice{kDLCPU, 0};
  v.dl.ndim = int32_t(nd);
  v.dl.dtype = dl_dtype(t.dtype());
  v.dl.shape = v.shape;
  v.dl.strides = v.strides;
  v.dl.byte_offset = 0;
}

}  // namespace vt::plugin
