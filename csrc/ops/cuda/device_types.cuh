#pragma once
// Element types in CUDA kernels: vt::Half / vt::BFloat16 (host types, convertible through
// _Float16) are stored in device code as __half / __nv_bfloat16 (same bits). Conversions follow
// the CPU kernels exactly: D(opmath_t<D>(opmath_t<S>(v))), and to bool: v != 0.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/dtype.h"

namespace vt::cuda_kernels {

template <class T> struct DeviceStorage { using type = T; };
template <> struct DeviceStorage<Half> { using type = __half; };
template <> struct DeviceStorage<BFloat16> { using type = __nv_bfloat16; };
// The device type of host element type T.
template <class T> using dev_t = typename DeviceStorage<T>::type;

template <class T> struct DeviceOpMath { using type = T; };
template <> struct DeviceOpMath<__half> { using type = float; };
template <> struct DeviceOpMath<__nv_bfloat16> { using type = float; };
// The type device arithmetic happens in (float for the 16-bit floats).
template <class T> using dev_opmath_t = typename DeviceOpMath<T>::type;

template <class T> inline constexpr bool is_dev_floating_v =
    std::is_floating_point_v<T> || std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

// v as its opmath type.
template <class T> __host__ __device__ inline dev_opmath_t<T> to_opmath(T v) {
  if constexpr (std::is_same_v<T, __half>) return __half2float(v);
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return __bfloat162float(v);
  else return v;
}

// An opmath value (or any arithmetic value) stored as T.
template <class T, class M> __host__ __device__ inline T from_opmath(M v) {
  if constexpr (std::is_same_v<T, __half>) return __float2half_rn(float(v));
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return __float2bfloat16_rn(float(v));
  else if constexpr (std::is_same_v<T, bool>) return bool(v);
  else return T(v);
}

// The CPU's copy_convert, element by element.
template <class D, class S> __host__ __device__ inline D convert(S v) {
  auto m = to_opmath(v);
  if constexpr (std::is_same_v<D, bool>) return bool(m != decltype(m)(0));
  else return from_opmath<D>(dev_opmath_t<D>(m));
}

// Bits of a host value of type T (as kernels read it: T's device type), for scalar operands.
template <class T> inline uint64_t bits_of_host(T v) {
  uint64_t bits = 0;
  static_assert(sizeof(T) <= 8);
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}
template <class D> __host__ __device__ inline D from_bits(uint64_t bits) {
  D v;
  memcpy(&v, &bits, sizeof(D));
  return v;
}

}  // namespace vt::cuda_kernels
