#pragma once
// Typed arguments through the boxed path: boxed onto a Stack, run by Dispatcher::call_boxed (the
// kernel's boxed adapter unboxes them again), the result unboxed from the Stack. This is the
// boxed stage a caller adds when it wants VibeTensor's boxed call (IValue stack, rollback copy
// under dispatch.stack_copy=on) instead of a typed handle's direct call.
#include <tuple>
#include <type_traits>

#include "dispatch/dispatcher.h"

namespace vt {

template <class R> struct ResultFromStack {
  static R get(Stack& s) { return std::move(s[0].get<R>()); }
};
template <class... Ts> struct ResultFromStack<std::tuple<Ts...>> {
  static std::tuple<Ts...> get(Stack& s) {
    return [&]<size_t... I>(std::index_sequence<I...>) {
      return std::tuple<Ts...>(std::move(s[I].get<Ts>())...);
    }(std::index_sequence_for<Ts...>{});
  }
};

template <class R, class... Args>
R call_boxed_typed(OperatorEntry& op, Args... args) {
  Stack stack;
  stack.reserve(sizeof...(Args));
  (stack.emplace_back(IValue(args)), ...);
  Dispatcher::get().call_boxed(op, stack);
  if constexpr (!std::is_void_v<R>) return ResultFromStack<R>::get(stack);
}

}  // namespace vt
