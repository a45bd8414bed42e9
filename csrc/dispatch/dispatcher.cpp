#include "dispatch/dispatcher.h"

#include <memory>
#include <optional>
#include <mutex>
#include <sstream>

namespace vt {

const char* key_name(DispatchKey k) {
  switch (k) {
    case DispatchKey::CPU: return "CPU";
    case DispatchKey::CUDA: return "CUDA";
    case DispatchKey::Autograd: return "Autograd";
    case DispatchKey::Composite: return "Composite";
    default: return "?";
  }
}

Dispatcher& Dispatcher::get() {
  static Dispatcher* d = new Dispatcher();  // never destroyed: handles outlive static teardown
  return *d;
}

namespace {
std::mutex& registration_mutex() { static std::mutex m; return m; }
}

OperatorEntry& Dispatcher::entry(const std::string& name) {
  std::lock_guard<std::mutex> g(registration_mutex());
  auto it = ops_.find(name);
  if (it != ops_.end()) return *it->second;
  auto* e = new OperatorEntry();
  e->name = name;
  e->autocast_kind = autocast::kind_of(name);
  auto st = std::make_unique<DispatchState>();
  st->backward_op = name.ends_with("_backward");
  e->state.store(st.get(), std::memory_order_release);
  all_states_.push_back(std::move(st));
  ops_[name] = e;
  return *e;
}

OperatorEntry* Dispatcher::find_defined(const std::string& name) {
  std::lock_guard<std::mutex> g(registration_mutex());
  auto it = ops_.find(name);
  return it != ops_.end() && it->second->has_schema ? it->second : nullptr;
}

void Dispatcher::define(const std::string& schema_text) {
  Schema s = Schema::parse(schema_text);
  OperatorEntry& e = entry(s.name);
  std::lock_guard<std::mutex> g(registration_mutex());
  VT_CHECK(!e.has_schema, "op ", s.name, " is defined twice");
  e.schema = std::move(s);
  e.has_schema = true;
}

void Dispatcher::register_kernel(const std::string& name, DispatchKey key, KernelEntry kernel) {
  OperatorEntry& e = entry(name);
  std::lock_guard<std::mutex> g(registration_mutex());
  auto next = std::make_unique<DispatchState>(*e.state.load(std::memory_order_acquire));
  VT_CHECK(!next->has(key), "op ", name, " has two kernels for key ", key_name(key));
  next->kernels[int(key)] = std::move(kernel);
  e.state.store(next.get(), std::memory_order_release);  // See Note [Dispatch state]
  all_states_.push_back(std::move(next));
}

OperatorEntry& Dispatcher::find_locked(const char* name) {
  std::lock_guard<probes::InstrumentedMutex> g(lookup_mutex_);
  probes::count(probes::Counter::name_lookups);
  auto it = ops_.find(std::string(name));
  VT_CHECK(it != ops_.end(), "no op named ", name);
  return *it->second;
}

std::vector<OperatorEntry*> Dispatcher::operators() {
  std::lock_guard<std::mutex> g(registration_mutex());
  std::vector<OperatorEntry*> v;
  for (auto& [_, e] : ops_) v.push_back(e);
  return v;
}

void Dispatcher::finalize() {
  std::ostringstream problems;
  for (OperatorEntry* e : operators()) {
    if (!e->has_schema) { problems << "\n  " << e->name << ": kernels registered but no schema"; continue; }
    const DispatchState* st = e->state.load();
    bool any = false;
    for (int k = 0; k < int(DispatchKey::kNumKeys); ++k) {
      const KernelEntry& ke = st->kernels[k];
      if (!ke.unboxed) continue;
      any = true;
      bool ok = ke.arg_types.size() == e->schema.args.size() && e->schema.returns_type() == ke.return_type;
      for (size_t i = 0; ok && i < ke.arg_types.size(); ++i) ok = e->schema.args[i].type == ke.arg_types[i];
      if (!ok) {
        problems << "\n  " << e->name << " [" << key_name(DispatchKey(k)) << "]: kernel signature (";
        for (size_t i = 0; i < ke.arg_types.size(); ++i) problems << (i ? ", " : "") << ke.arg_types[i];
        problems << ") -> " << ke.return_type << " does not match schema " << e->schema.text;
      }
    }
    (void)any;  // an op without kernels raises NotImplementedError when called
  }
  std::string p = problems.str();
  VT_CHECK(p.empty(), "dispatcher registration errors:", p);
}

// Note [Boxed stack copy]
// A boxed call (Python's op objects, the boxed adapters) passes its arguments as a Stack of
// IValues. dispatch.stack_copy=on copies that stack before the kernel runs and puts the copy back
// if the kernel throws, as VibeTensor's boxed path keeps a rollback copy: one allocation and a
// refcount increment per tensor argument on every call. off (torch's behaviour) runs the kernel
// on the stack as it is.
void Dispatcher::call_boxed(OperatorEntry& op_in, Stack& stack) {
  VT_PROBE_SCOPE(dispatch, fine, op_in.name.c_str());
  OperatorEntry* op = &op_in;
  if (policy::dispatch_lookup.get() == policy::DispatchLookup::locked_map) [[unlikely]]
    op = &find_locked(op_in.name.c_str());
  probes::count(probes::Counter::ops_dispatched);
  probes::count(probes::Counter::boxed_calls);
  std::optional<autocast::Suspend> autocast_off;
  if (autocast::active() && op->autocast_kind != autocast::Kind::none) [[unlikely]] {
    for (IValue& iv : stack) {  // Note [Autocast]
      if (iv.is<Tensor>()) iv = IValue(autocast::cast(iv.get<Tensor>(), op->autocast_kind));
      else if (iv.is<TensorList>()) iv = IValue(autocast::cast(iv.get<TensorList>(), op->autocast_kind));
    }
    autocast_off.emplace();
  }
  const DispatchState* st = op->state.load(std::memory_order_acquire);
  KeyScan scan;
  for (const IValue& iv : stack) scan.see_ivalue(iv);
  DispatchKey k = select_key(st, scan.needs_grad && GradMode::is_enabled(), scan.device, op->name.c_str());
  const KernelEntry& ke = st->kernels[int(k)];
  if (policy::dispatch_stack_copy.get() == policy::StackCopy::on) [[unlikely]] {
    Stack saved(stack);  // Note [Boxed stack copy]
    probes::count(probes::Counter::stack_copies);
    try {
      ke.boxed(ke.unboxed, stack);
    } catch (...) {
      stack = std::move(saved);
      throw;
    }
    return;
  }
  ke.boxed(ke.unboxed, stack);
}

}  // namespace vt
