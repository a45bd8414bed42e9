// CPU kernels: fill_, zero_ and the factories (empty, full, arange, rand, randn, randint); the
// CUDA twin is ops/cuda/factories.cu.
#include <cmath>

#include "ops/cpu/loops.h"
#include "ops/factory_args.h"
#include "ops/random/philox.h"

namespace vt::cpu {
namespace {

void fill_value(const Tensor& t, const Scalar& v) {
  VT_DISPATCH_ALL(t.dtype(), "fill_", [&]<class T>() {
    T tv = v.to<T>();
    if (t.is_contiguous()) {
      T* p = t.data<T>();
      for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = tv;
    } else {
      Tensor src = empty_tensor({}, t.dtype(), t.device());
      *src.data<T>() = tv;
      elementwise<T, T>(t, {&src}, [](T x) { return x; });
    }
  });
}

Tensor fill__cpu(const Tensor& self, const Scalar& value) {
  check_fill_value(self, value);
  fill_value(self, value);
  self->bump_version();
  return self;
}
Tensor zero__cpu(const Tensor& self) { return fill__cpu(self, Scalar(int64_t(0))); }

Device device_or(std::optional<Device> d) { return d ? *d : Device{}; }

Tensor empty_cpu(const IntList& size, std::optional<DType> dtype, std::optional<Device> device) {
  return empty_tensor(size, dtype_or(dtype, default_float_dtype()), device_or(device));
}
Tensor full_cpu(const IntList& size, const Scalar& v, std::optional<DType> dtype, std::optional<Device> device) {
  Tensor t = empty_tensor(size, dtype_or(dtype, v.default_dtype()), device_or(device));
  fill_value(t, v);
  return t;
}
Tensor arange_cpu(const Scalar& start, const Scalar& end, const Scalar& step, std::optional<DType> dtype,
                  std::optional<Device> device) {
  ArangeArgs a = arange_args(start, end, step, dtype);
  Tensor t = empty_tensor({a.n}, a.dtype, device_or(device));
  VT_DISPATCH_NUMERIC(a.dtype, "arange", [&]<class T>() {
    T* p = t.data<T>();
    // One rounding, on every host and on CUDA: see Note [arange values] in ops/cuda/factories.cu.
    if (a.any_float) for (int64_t i = 0; i < a.n; ++i) p[i] = T(opmath_t<T>(std::fma(double(i), a.step, a.start)));
    else for (int64_t i = 0; i < a.n; ++i) p[i] = T(opmath_t<T>(arange_int_value(a.istart, a.istep, i)));
  });
  return t;
}

// Random numbers: see Note [Philox streams] in ops/random/philox.h.
Tensor rand_cpu(const IntList& size, std::optional<DType> dtype, std::optional<Device> device) {
  Tensor t = empty_tensor(size, dtype_or(dtype, default_float_dtype()), device_or(device));
  uint64_t offset = random::reserve(uint64_t(t.numel()));
  uint64_t seed = random::seed();
  VT_DISPATCH_FLOATING(t.dtype(), "rand", [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = T(opmath_t<T>(random::uniform(seed, offset + uint64_t(i))));
  });
  return t;
}
Tensor randn_cpu(const IntList& size, std::optional<DType> dtype, std::optional<Device> device) {
  Tensor t = empty_tensor(size, dtype_or(dtype, default_float_dtype()), device_or(device));
  uint64_t offset = random::reserve(uint64_t(t.numel()));
  uint64_t seed = random::seed();
  VT_DISPATCH_FLOATING(t.dtype(), "randn", [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = T(opmath_t<T>(random::normal(seed, offset + uint64_t(i))));
  });
  return t;
}
Tensor randint_cpu(int64_t low, int64_t high, const IntList& size, std::optional<DType> dtype, std::optional<Device> device) {
  check_randint_range(low, high);
  Tensor t = empty_tensor(size, dtype_or(dtype, DType::Int64), device_or(device));
  uint64_t offset = random::reserve(uint64_t(t.numel()));
  uint64_t seed = random::seed();
  uint64_t range = uint64_t(high) - uint64_t(low);  // high - low may not fit in int64
  VT_DISPATCH_NUMERIC(t.dtype(), "randint", [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i)
      p[i] = T(opmath_t<T>(int64_t(uint64_t(low) + random::bits64(seed, offset + uint64_t(i)) % range)));
  });
  return t;
}

}  // namespace

VT_REGISTER_KERNEL("vt::fill_", CPU, fill__cpu);
VT_REGISTER_KERNEL("vt::zero_", CPU, zero__cpu);
VT_REGISTER_KERNEL("vt::empty", CPU, empty_cpu);
VT_REGISTER_KERNEL("vt::full", CPU, full_cpu);
VT_REGISTER_KERNEL("vt::arange", CPU, arange_cpu);
VT_REGISTER_KERNEL("vt::rand", CPU, rand_cpu);
VT_REGISTER_KERNEL("vt::randn", CPU, randn_cpu);
VT_REGISTER_KERNEL("vt::randint", CPU, randint_cpu);

}  // namespace vt::cpu
