#pragma once
// The one route from Python into an op: every spelling (a + b, a.add(b), vt.add(a, b),
// _C._ops.add(a, b)) ends in route(). See Note [One route from Python].
#include <type_traits>

#include "dispatch/boxed_call.h"
#include "ops/ops.h"
#include "python/bindings.h"

namespace vt::python {

// Note [One route from Python]
// An op's host cost must not depend on how the user spells it. So every catalogue op (op_list.h)
// has one CatalogueOp, and every Python spelling of it calls route() with typed C++ arguments:
// the arithmetic operators (tensor_bindings.cpp) convert their two operands, the generated
// callers of op_bindings.cpp convert (*args, **kwargs) by the op's schema, and both then take
// the same path:
//   - dispatch.stack_copy=off (tuned): the op's C++ function, that is its typed handle
//     (TypedOp), where dispatch.lookup decides whether the op is found by handle or by name
//     under the registry mutex;
//   - dispatch.stack_copy=on (vibe): VibeTensor's boxed call, as its Python ops take: the
//     arguments boxed onto an IValue stack, the stack copied for rollback, the kernel reached
//     through its boxed adapter (Dispatcher::call_boxed, which applies dispatch.lookup too).
// Either way one call counts once in ops_dispatched and, under locked_map, once in name_lookups.
template <class Sig> struct CatalogueOp;
template <class R, class... Args> struct CatalogueOp<R(Args...)> {
  using Signature = R(Args...);
  const char* name;        // "add"
  R (*typed)(Args...);     // ops::add: the call through the op's typed handle
  OperatorEntry* entry;    // the dispatcher's entry, for the boxed call
};

namespace catalogue {
#define VT_DECLARE_CATALOGUE_OP(ret, name, params, args, schema) extern const CatalogueOp<ret params> name;
VT_FOR_EACH_OP(VT_DECLARE_CATALOGUE_OP)
#undef VT_DECLARE_CATALOGUE_OP
}  // namespace catalogue

inline bool releases_gil_arg(const Tensor& t) { return releases_gil(t); }
inline bool releases_gil_arg(const std::optional<Tensor>& t) { return t && releases_gil(*t); }
inline bool releases_gil_arg(const TensorList& l) {
  for (const Tensor& t : l)
    if (releases_gil(t)) return true;
  return false;
}
template <class T> bool releases_gil_arg(const T&) { return false; }

template <class R, class... Args>
R route(const CatalogueOp<R(Args...)>& op, std::type_identity_t<Args>... args) {
  bool release = (false || ... || releases_gil_arg(args));  // Note [GIL around CPU kernels]
  return maybe_without_gil(release, [&]() -> R {
    if (policy::dispatch_stack_copy.get() == policy::StackCopy::on) [[unlikely]]
      return call_boxed_typed<R, Args...>(*op.entry, args...);
    return op.typed(args...);
  });
}

}  // namespace vt::python
