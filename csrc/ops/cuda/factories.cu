// CUDA kernels: fill_, zero_ and the factories (empty, full, arange, rand, randn, randint), with
// the CPU kernels' values: arange and the random numbers give the same bits as on the CPU for
// the same arguments and generator state (Note [Same numbers on every device] in philox.h).
#include <cmath>

#include "ops/cuda/elementwise.cuh"
#include "ops/factory_args.h"
#include "ops/cuda/random_counters.cuh"

namespace vt::cuda_kernels {
namespace {

template <class D> struct FillF {
  D value;
  __device__ D operator()() const { return value; }
};

void fill_value(const Tensor& t, const Scalar& v) {
  if (t.numel() == 0) return;
  VT_DISPATCH_ALL(t.dtype(), "fill_", [&]<class T>() {
    T tv = v.to<T>();
    if (t.is_contiguous() && bits_of_host(tv) == 0) {  // zero bits are zero in every dtype
      cuda::DeviceGuard g(t.device().index);
      VT_CUDA_CHECK(cudaMemsetAsync(t.data_ptr(), 0, size_t(t.numel() * itemsize(t.dtype())),
                                    cuda::current_stream(t.device().index).handle()));
      return;
    }
    using D = dev_t<T>;
    gpu_kernel<D>(t, {}, FillF<D>{from_bits<D>(bits_of_host(tv))});
  });
}

// p[i] = f(i) over a fresh contiguous tensor.
template <class D, class F> __global__ void index_kernel(D* p, int64_t n, F f) {
  int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) p[i] = f(i);
}

template <class D, class F> void launch_index(const Tensor& t, F f) {
  int64_t n = t.numel();
  if (n == 0) return;
  cuda::DeviceGuard g(t.device().index);
  int64_t blocks = (n + 255) / 256;
  if (blocks > 65536) blocks = 65536;
  index_kernel<D><<<unsigned(blocks), 256, 0, cuda::current_stream(t.device().index).handle()>>>(t.data<D>(), n, f);
  VT_CUDA_KERNEL_LAUNCH_CHECK();
}

Tensor fill__cuda(const Tensor& self, const Scalar& value) {
  check_fill_value(self, value);
  fill_value(self, value);
  self->bump_version();
  return self;
}
Tensor zero__cuda(const Tensor& self) { return fill__cuda(self, Scalar(int64_t(0))); }

Device cuda_device(std::optional<Device> d, const char* op) {
  VT_CHECK(d && d->is_cuda(), op, ": the CUDA kernel needs a CUDA device argument");
  return *d;
}

Tensor empty_cuda(const IntList& size, std::optional<DType> dtype, std::optional<Device> device) {
  return empty_tensor(size, dtype_or(dtype, default_float_dtype()), cuda_device(device, "empty"));
}

Tensor full_cuda(const IntList& size, const Scalar& v, std::optional<DType> dtype, std::optional<Device> device) {
  Tensor t = empty_tensor(size, dtype_or(dtype, v.default_dtype()), cuda_device(device, "full"));
  fill_value(t, v);
  return t;
}

// Note [arange values]
// Element i of a floating arange is fma(i, step, start) in double, rounded once, then converted
// to the dtype through its opmath type. The CPU kernel writes std::fma, which is exact whether
// or not the host has FMA instructions; the plain `start + i * step` it had before was fused or
// not depending on the compiler's -march/-ffp-contract, so the CPU and CUDA values differed in
// the last bit (arange(-1.0, 1.0, 0.1)[10]: 5.55e-17 with a fused multiply-add, 0 without).
// The fused form is also what torch's float64 arange gives.
template <class D> struct ArangeFloat {
  double s, st;
  __device__ D operator()(int64_t i) const { return from_opmath<D>(dev_opmath_t<D>(__fma_rn(double(i), st, s))); }
};
template <class D> struct ArangeInt {
  int64_t s, st;
  __device__ D operator()(int64_t i) const { return from_opmath<D>(dev_opmath_t<D>(arange_int_value(s, st, i))); }
};

Tensor arange_cuda(const Scalar& start, const Scalar& end, const Scalar& step, std::optional<DType> dtype,
                   std::optional<Device> device) {
  ArangeArgs a = arange_args(start, end, step, dtype);
  Tensor t = empty_tensor({a.n}, a.dtype, cuda_device(device, "arange"));
  VT_DISPATCH_NUMERIC(a.dtype, "arange", [&]<class T>() {
    using D = dev_t<T>;
    if (a.any_float) launch_index<D>(t, ArangeFloat<D>{a.start, a.step});
    else launch_index<D>(t, ArangeInt<D>{a.istart, a.istep});
  });
  return t;
}

// Random numbers: see Note [Philox streams] in ops/random/philox.h, and Note [Random numbers under
// capture] in cuda/capture_state.h for where the counters come from.
template <class D> struct UniformF {
  RandomCounters rc;
  __device__ D operator()(int64_t i) const {
    return from_opmath<D>(dev_opmath_t<D>(random::uniform(rc.key(), rc.counter(uint64_t(i)))));
  }
};
template <class D> struct NormalF {
  RandomCounters rc;
  __device__ D operator()(int64_t i) const {
    return from_opmath<D>(dev_opmath_t<D>(random::normal(rc.key(), rc.counter(uint64_t(i)))));
  }
};
template <class D> struct RandintF {
  RandomCounters rc;
  uint64_t range;
  int64_t low;
  __device__ D operator()(int64_t i) const {
    return from_opmath<D>(
        dev_opmath_t<D>(int64_t(uint64_t(low) + random::bits64(rc.key(), rc.counter(uint64_t(i))) % range)));
  }
};

Tensor rand_cuda(const IntList& size, std::optional<DType> dtype, std::optional<Device> device) {
  Tensor t = empty_tensor(size, dtype_or(dtype, default_float_dtype()), cuda_device(device, "rand"));
  RandomCounters rc = random_counters(uint64_t(t.numel()));
  VT_DISPATCH_FLOATING(t.dtype(), "rand", [&]<class T>() { launch_index<dev_t<T>>(t, UniformF<dev_t<T>>{rc}); });
  return t;
}
Tensor randn_cuda(const IntList& size, std::optional<DType> dtype, std::optional<Device> device) {
  Tensor t = empty_tensor(size, dtype_or(dtype, default_float_dtype()), cuda_device(device, "randn"));
  RandomCounters rc = random_counters(uint64_t(t.numel()));
  VT_DISPATCH_FLOATING(t.dtype(), "randn", [&]<class T>() { launch_index<dev_t<T>>(t, NormalF<dev_t<T>>{rc}); });
  return t;
}
Tensor randint_cuda(int64_t low, int64_t high, const IntList& size, std::optional<DType> dtype, std::optional<Device> device) {
  check_randint_range(low, high);
  Tensor t = empty_tensor(size, dtype_or(dtype, DType::Int64), cuda_device(device, "randint"));
  RandomCounters rc = random_counters(uint64_t(t.numel()));
  uint64_t range = uint64_t(high) - uint64_t(low);  // high - low may not fit in int64
  VT_DISPATCH_NUMERIC(t.dtype(), "randint", [&]<class T>() {
    launch_index<dev_t<T>>(t, RandintF<dev_t<T>>{rc, range, low});
  });
  return t;
}

}  // namespace

VT_REGISTER_KERNEL("vt::fill_", CUDA, fill__cuda);
VT_REGISTER_KERNEL("vt::zero_", CUDA, zero__cuda);
VT_REGISTER_KERNEL("vt::empty", CUDA, empty_cuda);
VT_REGISTER_KERNEL("vt::full", CUDA, full_cuda);
VT_REGISTER_KERNEL("vt::arange", CUDA, arange_cuda);
VT_REGISTER_KERNEL("vt::rand", CUDA, rand_cuda);
VT_REGISTER_KERNEL("vt::randn", CUDA, randn_cuda);
VT_REGISTER_KERNEL("vt::randint", CUDA, randint_cuda);

}  // namespace vt::cuda_kernels
