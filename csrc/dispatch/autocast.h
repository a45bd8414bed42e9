#pragma once
// Automatic mixed precision at the dispatcher (vt.autocast). See Note [Autocast].
#include <optional>

#include "core/tensor.h"
#include "dispatch/ivalue.h"

namespace vt::autocast {

// Note [Autocast]
// Inside `with vt.autocast("cuda", dtype=bfloat16)` an op of the "lower" list (matmul, linear, bmm,
// attention) casts its floating operands on that device to the autocast dtype, and an op of the
// "fp32" list (softmax, log_softmax, the norms, the losses, exp, log, pow, sum, cumsum) casts its
// lower-precision operands to float32, as torch's Autocast dispatch key does (its
// autocast_mode.cpp op lists, trimmed to the ops vibetensor has). Other ops run on what they get;
// the binary ops already promote mixed operands. The state is per thread (torch's is too) and one
// per device type. The cast is the differentiable to_dtype op, so gradients flow back to the
// float32 leaves in float32. The op then runs with autocast off on this thread, so the ops it
// calls are not cast again (torch excludes its key on the redispatch), and the autograd engine
// runs backward with autocast off. When no autocast region is open a call pays one thread-local
// load (active()).
enum class Kind : uint8_t { none = 0, lower = 1, fp32 = 2 };

struct State {
  bool active = false;  // cuda_on || cpu_on
  bool cuda_on = false, cpu_on = false;
  DType cuda_dtype = DType::Float16, cpu_dtype = DType::BFloat16;
};
// This thread's; constinit so that reading it is a plain TLS load on every op call, no guard.
inline constinit thread_local State g_state{};
inline State& state() { return g_state; }
inline bool active() { return g_state.active; }

// The op list an op belongs to (by its "vt::" name), looked up once per OperatorEntry.
Kind kind_of(const std::string& op_name);

// Operand casts of one call; the cast itself is ops' to_dtype, installed by the ops layer.
using CastFn = Tensor (*)(const Tensor&, DType);
void set_cast_fn(CastFn fn);
Tensor cast(const Tensor& t, Kind kind);
inline std::optional<Tensor> cast(const std::optional<Tensor>& t, Kind kind) {
  return t ? std::optional<Tensor>(cast(*t, kind)) : std::nullopt;
}
TensorList cast(const TensorList& l, Kind kind);
template <class T> const T& cast(const T& v, Kind) { return v; }

// Autocast off on this thread for a scope (the op's own run, a backward).
class Suspend {
 public:
  Suspend() : saved_(state()) { state().active = false; state().cuda_on = state().cpu_on = false; }
  ~Suspend() { state() = saved_; }
  Suspend(const Suspend&) = delete;
  Suspend& operator=(const Suspend&) = delete;

 private:
  State saved_;
};

}  // namespace vt::autocast
