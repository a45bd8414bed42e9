#pragma once
// IValue: one boxed argument or result on a dispatcher stack.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/scalar.h"
#include "core/tensor.h"

namespace vt {

using IntList = std::vector<int64_t>;
using TensorList = std::vector<Tensor>;

struct IValue {
  using Payload = std::variant<std::monostate, Tensor, int64_t, double, bool, Scalar, IntList, TensorList,
                               DType, Device, std::string>;
  Payload v;

  IValue() = default;
  template <class T> IValue(T x) : v(std::move(x)) {}
  template <class T> IValue(std::optional<T> x) { if (x) v = std::move(*x); }
  IValue(int x) : v(int64_t(x)) {}

  bool is_none() const { return std::holds_alternative<std::monostate>(v); }
  template <class T> bool is() const { return std::holds_alternative<T>(v); }
  template <class T> const T& get() const { return std::get<T>(v); }
  template <class T> T& get() { return std::get<T>(v); }
};
using Stack = std::vector<IValue>;

// Unboxing: the C++ argument type a kernel takes, read from an IValue.
template <class T> struct FromIValue;
template <> struct FromIValue<const Tensor&> { static const Tensor& get(IValue& iv) { return iv.get<Tensor>(); } };
template <> struct FromIValue<const std::optional<Tensor>&> {
  static std::optional<Tensor> get(IValue& iv) { return iv.is_none() ? std::nullopt : std::optional<Tensor>(iv.get<Tensor>()); }
};
template <> struct FromIValue<const TensorList&> { static const TensorList& get(IValue& iv) { return iv.get<TensorList>(); } };
template <> struct FromIValue<int64_t> { static int64_t get(IValue& iv) { return iv.get<int64_t>(); } };
template <> struct FromIValue<std::optional<int64_t>> {
  static std::optional<int64_t> get(IValue& iv) { return iv.is_none() ? std::nullopt : std::optional<int64_t>(iv.get<int64_t>()); }
};
template <> struct FromIValue<double> { static double get(IValue& iv) { return iv.get<double>(); } };
template <> struct FromIValue<std::optional<double>> {
  static std::optional<double> get(IValue& iv) { return iv.is_none() ? std::nullopt : std::optional<double>(iv.get<double>()); }
};
template <> struct FromIValue<bool> { static bool get(IValue& iv) { return iv.get<bool>(); } };
template <> struct FromIValue<const Scalar&> { static const Scalar& get(IValue& iv) { return iv.get<Scalar>(); } };
template <> struct FromIValue<const IntList&> { static const IntList& get(IValue& iv) { return iv.get<IntList>(); } };
template <> struct FromIValue<const std::optional<IntList>&> {
  static std::optional<IntList> get(IValue& iv) { return iv.is_none() ? std::nullopt : std::optional<IntList>(iv.get<IntList>()); }
};
template <> struct FromIValue<DType> { static DType get(IValue& iv) { return iv.get<DType>(); } };
template <> struct FromIValue<std::optional<DType>> {
  static std::optional<DType> get(IValue& iv) { return iv.is_none() ? std::nullopt : std::optional<DType>(iv.get<DType>()); }
};
template <> struct FromIValue<std::optional<Device>> {
  static std::optional<Device> get(IValue& iv) { return iv.is_none() ? std::nullopt : std::optional<Device>(iv.get<Device>()); }
};
template <> struct FromIValue<const std::string&> { static const std::string& get(IValue& iv) { return iv.get<std::string>(); } };

// The schema type string each C++ argument type corresponds to (checked at registration).
template <class T> struct SchemaTypeOf;
#define VT_SCHEMA_TYPE(T, S) template <> struct SchemaTypeOf<T> { static constexpr const char* value = S; };
VT_SCHEMA_TYPE(const Tensor&, "Tensor")
VT_SCHEMA_TYPE(const std::optional<Tensor>&, "Tensor?")
VT_SCHEMA_TYPE(const TensorList&, "Tensor[]")
VT_SCHEMA_TYPE(int64_t, "int")
VT_SCHEMA_TYPE(std::optional<int64_t>, "int?")
VT_SCHEMA_TYPE(double, "float")
VT_SCHEMA_TYPE(std::optional<double>, "float?")
VT_SCHEMA_TYPE(bool, "bool")
VT_SCHEMA_TYPE(const Scalar&, "Scalar")
VT_SCHEMA_TYPE(const IntList&, "int[]")
VT_SCHEMA_TYPE(const std::optional<IntList>&, "int[]?")
VT_SCHEMA_TYPE(DType, "ScalarType")
VT_SCHEMA_TYPE(std::optional<DType>, "ScalarType?")
VT_SCHEMA_TYPE(std::optional<Device>, "Device?")
VT_SCHEMA_TYPE(const std::string&, "str")
VT_SCHEMA_TYPE(Tensor, "Tensor")
VT_SCHEMA_TYPE(TensorList, "Tensor[]")
VT_SCHEMA_TYPE(void, "()")
#undef VT_SCHEMA_TYPE
template <class A, class B> struct SchemaTypeOf<std::tuple<A, B>> { static constexpr const char* value = "(Tensor, Tensor)"; };
template <class A, class B, class C> struct SchemaTypeOf<std::tuple<A, B, C>> { static constexpr const char* value = "(Tensor, Tensor, Tensor)"; };

// Boxing results.
inline void push_result(Stack& s, Tensor t) { s.emplace_back(std::move(t)); }
inline void push_result(Stack& s, TensorList t) { s.emplace_back(std::move(t)); }
template <class... Ts> void push_result(Stack& s, std::tuple<Ts...> t) {
  std::apply([&](auto&... x) { (s.emplace_back(std::move(x)), ...); }, t);
}

}  // namespace vt
