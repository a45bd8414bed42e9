// See Note [Autocast] in dispatch/autocast.h.
#include "dispatch/autocast.h"

#include <atomic>
#include <string_view>

namespace vt::autocast {

Kind kind_of(const std::string& op_name) {
  // torch's autocast_mode.cpp lists, for the ops vibetensor has (its fp32_set_opt_dtype ops:
  // softmax, log_softmax, sum, cumsum, also compute in float32).
  static constexpr std::string_view kLower[] = {"vt::matmul", "vt::bmm", "vt::linear", "vt::scaled_dot_product_attention",
                                                "vt::_fused_attention"};
  static constexpr std::string_view kFp32[] = {
      "vt::softmax",     "vt::log_softmax", "vt::layer_norm", "vt::rms_norm",    "vt::native_layer_norm",
      "vt::native_rms_norm", "vt::nll_loss", "vt::cross_entropy", "vt::_fused_cross_entropy", "vt::exp",
      "vt::log",         "vt::pow",         "vt::rsqrt",      "vt::sum",         "vt::cumsum"};
  for (std::string_view n : kLower)
    if (n == op_name) return Kind::lower;
  for (std::string_view n : kFp32)
    if (n == op_name) return Kind::fp32;
  return Kind::none;
}

namespace {
std::atomic<CastFn> g_cast{nullptr};

// The dtype `t` takes under `kind` with this thread's state, or t's own when it is not cast: only
// floating tensors on a device whose autocast is on, never float64 (as torch's is_eligible).
DType target(const Tensor& t, Kind kind) {
  DType d = t.dtype();
  if (!t.defined() || !(d == DType::Float32 || d == DType::Float16 || d == DType::BFloat16)) return d;
  const State& s = state();
  bool cuda = t.device().is_cuda();
  if (cuda ? !s.cuda_on : !s.cpu_on) return d;
  if (kind == Kind::fp32) return DType::Float32;
  return cuda ? s.cuda_dtype : s.cpu_dtype;
}
}  // namespace

void set_cast_fn(CastFn fn) { g_cast.store(fn, std::memory_order_release); }

Tensor cast(const Tensor& t, Kind kind) {
  if (!t.defined() || t->is_wrapped_number) return t;
  DType d = target(t, kind);
  if (d == t.dtype()) return t;
  CastFn fn = g_cast.load(std::memory_order_acquire);
  VT_CHECK(fn != nullptr, "autocast: no cast function is installed (the ops library did not load)");
  return fn(t, d);
}

TensorList cast(const TensorList& l, Kind kind) {
  TensorList out;
  out.reserve(l.size());
  for (const Tensor& t : l) out.push_back(cast(t, kind));
  return out;
}

}  // namespace vt::autocast
