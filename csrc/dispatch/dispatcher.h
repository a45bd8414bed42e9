#pragma once
// The dispatcher: ops declared by schema, kernels registered per dispatch key, and two call
// paths (unboxed through TypedOp, boxed through call_boxed). See Note [Dispatch state].
#include <atomic>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "core/grad_mode.h"
#include "dispatch/autocast.h"
#include "dispatch/ivalue.h"
#include "dispatch/schema.h"
#include "policy/catalogue.h"
#include "probes/counters.h"
#include "probes/instrumented_mutex.h"
#include "probes/scope.h"

namespace vt {

// Composite: the kernel is written in terms of other ops (autograd flows through them), and
// serves every device. Autograd: runs when grad mode is on and an input requires grad.
enum class DispatchKey : uint8_t { CPU = 0, CUDA = 1, Autograd = 2, Composite = 3, kNumKeys = 4 };
const char* key_name(DispatchKey k);

using BoxedAdapterFn = void (*)(void* unboxed, Stack& stack);

struct KernelEntry {
  void* unboxed = nullptr;
  BoxedAdapterFn boxed = nullptr;
  std::vector<const char*> arg_types;  // schema types of the C++ signature, checked in finalize()
  const char* return_type = nullptr;
};

// Note [Dispatch state]
// Each op's kernels live in an immutable DispatchState. Registration copies the state, edits
// the copy and publishes it with one atomic store; callers load it with acquire and never lock.
// Old states are kept alive (registration happens at start-up only), so a reader never sees
// freed memory.
struct DispatchState {
  KernelEntry kernels[int(DispatchKey::kNumKeys)];
  // The op is a backward kernel (its name ends in _backward): without an Autograd kernel it has no
  // derivative, and a call that would need one is refused (Note [Double backward], autograd/node.h).
  bool backward_op = false;
  bool has(DispatchKey k) const { return kernels[int(k)].unboxed != nullptr; }
};

struct OperatorEntry {
  std::string name;
  autocast::Kind autocast_kind = autocast::Kind::none;  // Note [Autocast]
  Schema schema;
  bool has_schema = false;
  std::atomic<const DispatchState*> state{nullptr};
};

// Note [Dispatch lookup]
// How a call reaches its OperatorEntry is the policy dispatch.lookup. handle (as torch's
// OperatorHandle): every caller resolved the entry once (TypedOp at construction, Python's op
// objects at import) and a call loads its DispatchState without a lock. locked_map (VibeTensor's
// by-name boxed calls): every call looks the op up by name in the string-hash map under the
// "dispatcher.registry" mutex (find_locked), so concurrent callers contend on one lock per op.

class Dispatcher {
 public:
  static Dispatcher& get();

  void define(const std::string& schema_text);
  void register_kernel(const std::string& name, DispatchKey key, KernelEntry kernel);
  // Entry by name without the lookup policy (registration, handle resolution).
  OperatorEntry& entry(const std::string& name);
  // The entry of a defined op, or nullptr (the plugin loader's check; creates nothing).
  OperatorEntry* find_defined(const std::string& name);
  // The dispatch.lookup=locked_map path: mutex + string-hash lookup on every call
  // (Note [Dispatch lookup]).
  OperatorEntry& find_locked(const char* name);
  // Checks every op has a schema and kernels match it; raises listing the problems.
  void finalize();
  std::vector<OperatorEntry*> operators();

  void call_boxed(OperatorEntry& op, Stack& stack);

 private:
  Dispatcher() : lookup_mutex_("dispatcher.registry") {}
  std::unordered_map<std::string, OperatorEntry*> ops_;
  probes::InstrumentedMutex lookup_mutex_;
  std::vector<std::unique_ptr<DispatchState>> all_states_;
};

// Which key a call goes to, given whether any tensor requires grad and its device.
inline DispatchKey select_key(const DispatchState* st, bool needs_grad, Device dev, const char* op) {
  if (st->has(DispatchKey::Composite)) return DispatchKey::Composite;
  if (needs_grad && st->has(DispatchKey::Autograd)) return DispatchKey::Autograd;
  if (needs_grad && st->backward_op) [[unlikely]]
    detail::throw_error(ErrorKind::NotImplemented, op, ": differentiating through this backward kernel is not "
                        "supported (create_graph=True needs the second derivative of its forward op, which vibetensor "
                        "does not implement)");
  DispatchKey k = dev.is_cuda() ? DispatchKey::CUDA : DispatchKey::CPU;
  if (!st->has(k)) [[unlikely]] {
    if (dev.is_cuda() && !has_device_allocator(DeviceType::CUDA))
      detail::throw_error(ErrorKind::Runtime, op, ": cannot run on ", dev, ": vibetensor was built without CUDA");
    detail::throw_error(ErrorKind::NotImplemented, op, ": no kernel for device ", dev,
                        dev.is_cuda() ? " (this build has no CUDA kernel for it)" : "");
  }
  return k;
}

// Scans the arguments of a call for its device and whether autograd is needed.
struct KeyScan {
  bool needs_grad = false;
  bool have_device = false;
  bool device_from_cpu_scalar = false;
  Device device{};
  void see(const Tensor& t) {
    if (!t.defined()) return;
    needs_grad |= t->requires_grad();
    if (t->is_wrapped_number) return;  // a wrapped Python number never decides the device
    // A 0-d CPU tensor decides only if no tensor on another device follows (as in torch):
    // mul(cpu_scalar, cuda_tensor) runs on CUDA.
    if (have_device && !device_from_cpu_scalar) return;
    bool cpu_scalar = t.device().is_cpu() && t.dim() == 0;
    if (have_device && cpu_scalar) return;
    device = t.device();
    have_device = true;
    device_from_cpu_scalar = cpu_scalar;
  }
  void see(const std::optional<Tensor>& t) { if (t) see(*t); }
  void see(const TensorList& l) { for (auto& t : l) see(t); }
  void see(const std::optional<Device>& d) { if (d && !have_device) { device = *d; have_device = true; } }
  template <class T> void see(const T&) {}
  void see_ivalue(const IValue& iv) {
    if (iv.is<Tensor>()) see(iv.get<Tensor>());
    else if (iv.is<TensorList>()) see(iv.get<TensorList>());
    else if (iv.is<Device>()) see(std::optional<Device>(iv.get<Device>()));
  }
};

template <class Sig> struct BoxedAdapter;
template <class R, class... Args>
struct BoxedAdapter<R(Args...)> {
  static void call(void* fn, Stack& s) {
    auto f = reinterpret_cast<R (*)(Args...)>(fn);
    size_t base = s.size() - sizeof...(Args);
    auto invoke = [&]<size_t... I>(std::index_sequence<I...>) { return f(FromIValue<Args>::get(s[base + I])...); };
    if constexpr (std::is_void_v<R>) {
      invoke(std::index_sequence_for<Args...>{});
      s.resize(base);
    } else {
      R r = invoke(std::index_sequence_for<Args...>{});
      s.resize(base);
      push_result(s, std::move(r));
    }
  }
};

template <class Sig> struct KernelTraits;
template <class R, class... Args>
struct KernelTraits<R(Args...)> {
  static KernelEntry make(R (*fn)(Args...)) {
    KernelEntry e;
    e.unboxed = reinterpret_cast<void*>(fn);
    e.boxed = &BoxedAdapter<R(Args...)>::call;
    e.arg_types = {SchemaTypeOf<Args>::value...};
    e.return_type = SchemaTypeOf<R>::value;
    return e;
  }
};

// A typed handle: C++ callers and the Python fast paths call ops through it.
template <class Sig> class TypedOp;
template <class R, class... Args>
class TypedOp<R(Args...)> {
 public:
  explicit TypedOp(const char* name) : name_(name), entry_(&Dispatcher::get().entry(name)) {}

  R operator()(Args... args) const {
    if (autocast::active()) [[unlikely]] {
      if (autocast::Kind kind = entry_->autocast_kind; kind != autocast::Kind::none) {
        // Note [Autocast]: the operands are cast first, then the op runs with autocast off.
        return [this](const auto&... cast_args) -> R {
          autocast::Suspend off;
          return (*this)(cast_args...);
        }(autocast::cast(args, kind)...);
      }
    }
    VT_PROBE_SCOPE(op, fine, name_);
    OperatorEntry* op = entry_;
    if (policy::dispatch_lookup.get() == policy::DispatchLookup::locked_map) [[unlikely]]
      op = &Dispatcher::get().find_locked(name_);
    probes::count(probes::Counter::ops_dispatched);
    const DispatchState* st = op->state.load(std::memory_order_acquire);
    KeyScan scan;
    (scan.see(args), ...);
    DispatchKey k = select_key(st, scan.needs_grad && GradMode::is_enabled(), scan.device, name_);
    return reinterpret_cast<R (*)(Args...)>(st->kernels[int(k)].unboxed)(std::forward<Args>(args)...);
  }

  // From an autograd kernel: the device kernel, skipping autograd.
  R redispatch(Args... args) const {
    const DispatchState* st = entry_->state.load(std::memory_order_acquire);
    KeyScan scan;
    (scan.see(args), ...);
    DispatchKey k = select_key(st, false, scan.device, name_);
    return reinterpret_cast<R (*)(Args...)>(st->kernels[int(k)].unboxed)(std::forward<Args>(args)...);
  }

  const char* name() const { return name_; }

 private:
  const char* name_;
  OperatorEntry* entry_;
};

// Static registration helpers: one line per op definition or kernel.
struct OpDefiner { explicit OpDefiner(const char* schema) { Dispatcher::get().define(schema); } };
struct KernelRegistrar {
  template <class R, class... Args>
  KernelRegistrar(const char* name, DispatchKey key, R (*fn)(Args...)) {
    Dispatcher::get().register_kernel(name, key, KernelTraits<R(Args...)>::make(fn));
  }
};

#define VT_CONCAT_INNER(a, b) a##b
#define VT_CONCAT(a, b) VT_CONCAT_INNER(a, b)
// VT_DEFINE_OP("vt::add(Tensor self, Tensor other, Scalar alpha=1) -> Tensor");
#define VT_DEFINE_OP(schema) static ::vt::OpDefiner VT_CONCAT(vt_op_def_, __COUNTER__)(schema)
// VT_REGISTER_KERNEL("vt::add", CPU, add_cpu);
#define VT_REGISTER_KERNEL(name, key, fn) \
  static ::vt::KernelRegistrar VT_CONCAT(vt_kernel_reg_, __COUNTER__)(name, ::vt::DispatchKey::key, fn)

}  // namespace vt
