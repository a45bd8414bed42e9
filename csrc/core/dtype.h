#pragma once
// Element types, their sizes and names, type promotion, and dtype-generic dispatch.
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/half.h"

namespace vt {

enum class DType : int8_t { Float32, Float64, Float16, BFloat16, Int64, Int32, Bool };
constexpr int kNumDTypes = 7;

inline int64_t itemsize(DType t) {
  switch (t) {
    case DType::Float64: case DType::Int64: return 8;
    case DType::Float32: case DType::Int32: return 4;
    case DType::Float16: case DType::BFloat16: return 2;
    case DType::Bool: return 1;
  }
  return 0;
}

inline std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Int64: return "int64";
    case DType::Int32: return "int32";
    case DType::Bool: return "bool";
  }
  return "?";
}
inline std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

inline bool is_floating(DType t) {
  return t == DType::Float32 || t == DType::Float64 || t == DType::Float16 || t == DType::BFloat16;
}
inline bool is_integral(DType t, bool include_bool) {
  return t == DType::Int64 || t == DType::Int32 || (include_bool && t == DType::Bool);
}

// Promotion between two tensor dtypes, as torch.promote_types does.
DType promote_types(DType a, DType b);

// Note [Default dtype]
// The floating dtype of a tensor made from Python floats, of a factory given no dtype, of an integer op that
// gives floats (true division, sqrt of ints) and of a Python float in type promotion: float32 unless
// torch.set_default_dtype (vibetensor.set_default_dtype) chose another floating dtype. One process-wide value,
// as torch's, read with a relaxed atomic load by each of those.
DType default_float_dtype();
void set_default_float_dtype(DType t);  // a floating dtype (the caller checks)

template <class T> struct CppType;
template <> struct CppType<float> { static constexpr DType value = DType::Float32; };
template <> struct CppType<double> { static constexpr DType value = DType::Float64; };
template <> struct CppType<Half> { static constexpr DType value = DType::Float16; };
template <> struct CppType<BFloat16> { static constexpr DType value = DType::BFloat16; };
template <> struct CppType<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct CppType<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct CppType<bool> { static constexpr DType value = DType::Bool; };

// The type arithmetic happens in: float for the 16-bit floats, the type itself otherwise.
template <class T> struct OpMath { using type = T; };
template <> struct OpMath<Half> { using type = float; };
template <> struct OpMath<BFloat16> { using type = float; };
template <class T> using opmath_t = typename OpMath<T>::type;

}  // namespace vt

// VT_DISPATCH_*(dtype, "op", [&]<class scalar_t>() { ... }) calls the lambda with scalar_t bound.
#define VT_DISPATCH_CASE(DT, T, ...) \
  case ::vt::DType::DT: return __VA_ARGS__.template operator()<T>();
#define VT_DISPATCH_FLOATING(dtype, opname, ...)                                       \
  [&] {                                                                                \
    switch (dtype) {                                                                   \
      VT_DISPATCH_CASE(Float32, float, __VA_ARGS__)                                    \
      VT_DISPATCH_CASE(Float64, double, __VA_ARGS__)                                   \
      VT_DISPATCH_CASE(Float16, ::vt::Half, __VA_ARGS__)                               \
      VT_DISPATCH_CASE(BFloat16, ::vt::BFloat16, __VA_ARGS__)                          \
      default:                                                                         \
        ::vt::detail::throw_error(::vt::ErrorKind::Type, opname, ": expected a floating " \
                                  "dtype (float32, float64, float16, bfloat16), got ", dtype); \
    }                                                                                  \
  }()
#define VT_DISPATCH_ALL(dtype, opname, ...)                                            \
  [&] {                                                                                \
    switch (dtype) {                                                                   \
      VT_DISPATCH_CASE(Float32, float, __VA_ARGS__)                                    \
      VT_DISPATCH_CASE(Float64, double, __VA_ARGS__)                                   \
      VT_DISPATCH_CASE(Float16, ::vt::Half, __VA_ARGS__)                               \
      VT_DISPATCH_CASE(BFloat16, ::vt::BFloat16, __VA_ARGS__)                          \
      VT_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)                                    \
      VT_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)                                    \
      VT_DISPATCH_CASE(Bool, bool, __VA_ARGS__)                                        \
    }                                                                                  \
    ::vt::detail::throw_error(::vt::ErrorKind::Type, opname, ": unknown dtype");       \
  }()
#define VT_DISPATCH_NUMERIC(dtype, opname, ...)                                        \
  [&] {                                                                                \
    switch (dtype) {                                                                   \
      VT_DISPATCH_CASE(Float32, float, __VA_ARGS__)                                    \
      VT_DISPATCH_CASE(Float64, double, __VA_ARGS__)                                   \
      VT_DISPATCH_CASE(Float16, ::vt::Half, __VA_ARGS__)                               \
      VT_DISPATCH_CASE(BFloat16, ::vt::BFloat16, __VA_ARGS__)                          \
      VT_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)                                    \
      VT_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)                                    \
      default:                                                                         \
        ::vt::detail::throw_error(::vt::ErrorKind::Type, opname, ": not supported for dtype ", dtype); \
    }                                                                                  \
  }()
