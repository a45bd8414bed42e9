#pragma once
// CUDA elementwise machinery: out[i] = f(in0[i], in1[i], ...) over strided, broadcast operands.
// See Note [CUDA elementwise loops].
#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <utility>

#include "core/tensor.h"
#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/stream.h"
#include "ops/cuda/device_types.cuh"

namespace vt::cuda_kernels {

// Note [CUDA elementwise loops]
// Operand 0 is the output; inputs are device tensors broadcast to the output's shape, or scalar
// values passed inside the kernel's arguments (Note [Scalars on CUDA] in scalars.cuh). On the
// host, each operand gets byte strides aligned to the output's dims (0 where it broadcasts);
// size-1 dims are dropped and adjacent dims that are contiguous for every operand are merged.
// Three kernels:
// - vectorized: every tensor operand is contiguous and 16-byte aligned: each thread loads and
//   stores vectors of kVec elements (16 bytes of the widest operand type), grid-stride.
// - strided, 32-bit: offsets of every operand fit in 31 bits; each thread computes kUnroll
//   elements, the linear index split into per-dim coordinates by multiply-shift division
//   (IntDivider) instead of integer division.
// - strided, 64-bit: the general case.
// f receives the inputs as their device types (float, __half, bool, ...) and returns the
// output's device type. Kernels run on the current stream of the output's device.

constexpr int kMaxDims = 16;
constexpr int kMaxArgs = 5;  // output + 4 inputs
constexpr int kThreads = 128;
constexpr int kUnroll = 4;

// An input: a device tensor, or a value of the input's type (its bits) passed by value.
struct Operand {
  const Tensor* tensor = nullptr;
  uint64_t bits = 0;
  static Operand of(const Tensor& t) { return Operand{&t, 0}; }
  static Operand value(uint64_t bits) { return Operand{nullptr, bits}; }
  bool is_value() const { return tensor == nullptr; }
};

template <int N> struct KernelArgs {
  char* data[N];
  uint64_t bits[N];
  bool is_value[N];
};

// ---- index arithmetic -------------------------------------------------------------------

template <class index_t> struct DivMod { index_t div, mod; };

template <class index_t> struct IntDivider {  // 64-bit: plain division
  IntDivider() = default;
  explicit IntDivider(index_t d) : divisor(d) {}
  __device__ __forceinline__ DivMod<index_t> divmod(index_t n) const { return {n / divisor, n % divisor}; }
  index_t divisor = 1;
};

// Division by a constant as a multiply-high and a shift (Hacker's Delight 10-9), valid for
// n < 2^31 and 1 <= divisor <= 2^31.
template <> struct IntDivider<uint32_t> {
  IntDivider() = default;
  explicit IntDivider(uint32_t d) : divisor(d) {
    for (shift = 0; shift < 32; ++shift)
      if ((uint64_t(1) << shift) >= divisor) break;
    uint64_t one = 1;
    uint64_t magic = ((one << 32) * ((one << shift) - divisor)) / divisor + 1;
    m1 = uint32_t(magic);
  }
  __device__ __forceinline__ DivMod<uint32_t> divmod(uint32_t n) const {
    uint32_t t = __umulhi(n, m1);
    uint32_t q = (t + n) >> shift;
    return {q, n - q * divisor};
  }
  uint32_t divisor = 1, m1 = 1, shift = 0;
};

// Coalesced iteration space: dims innermost first, byte strides per operand.
struct ElementwisePlan {
  int nargs = 0;
  int ndim = 0;
  int64_t numel = 1;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims][kMaxArgs];

  // out_shape/out_strides: the output's geometry; inputs broadcast to it.
  ElementwisePlan(const Tensor& out, const Operand* ins, int nin, const int64_t* elem_sizes) {
    nargs = nin + 1;
    int64_t D = out.dim();
    numel = out.numel();
    int nd = 0;
    int64_t sh[kMaxDims * 4];
    int64_t st[kMaxDims * 4][kMaxArgs];
    VT_CHECK(D <= 4 * kMaxDims, "CUDA elementwise: too many dims (", D, ")");
    for (int64_t d = D - 1; d >= 0; --d) {  // innermost first
      int64_t size = out.sizes()[d];
      if (size == 1) continue;
      sh[nd] = size;
      st[nd][0] = out.strides()[d] * elem_sizes[0];
      for (int k = 0; k < nin; ++k) {
        const Tensor* t = ins[k].tensor;
        int64_t s = 0;
        if (t) {
          int64_t td = d - (D - t->dim());
          if (td >= 0 && t->sizes()[td] != 1) s = t->strides()[td] * elem_sizes[k + 1];
        }
        st[nd][k + 1] = s;
      }
      ++nd;
    }
    // Merge dim j+1 (outer) into j (inner) when it continues j for every operand.
    ndim = 0;
    for (int j = 0; j < nd; ++j) {
      if (ndim > 0) {
        int prev = ndim - 1;
        bool mergeable = true;
        for (int k = 0; k < nargs && mergeable; ++k) mergeable = st[j][k] == strides[prev][k] * shape[prev];
        if (mergeable) {
          shape[prev] *= sh[j];
          continue;
        }
      }
      VT_CHECK(ndim < kMaxDims, "CUDA elementwise: more than ", kMaxDims, " dims remain after merging contiguous "
               "dims (output shape ", shape_str(out.sizes()), ")");
      shape[ndim] = sh[j];
      for (int k = 0; k < nargs; ++k) strides[ndim][k] = st[j][k];
      ++ndim;
    }
  }

  // One inner dim, every tensor operand contiguous (value operands do not matter).
  bool contiguous(const int64_t* elem_sizes, const Operand* ins) const {
    if (ndim > 1) return false;
    if (ndim == 0) return true;
    if (strides[0][0] != elem_sizes[0]) return false;
    for (int k = 1; k < nargs; ++k)
      if (!ins[k - 1].is_value() && strides[0][k] != elem_sizes[k]) return false;
    return true;
  }

  bool fits_32bit() const {
    if (numel > INT32_MAX) return false;
    for (int k = 0; k < nargs; ++k) {
      int64_t span = 0;
      for (int d = 0; d < ndim; ++d) {
        if (strides[d][k] < 0) return false;
        span += (shape[d] - 1) * strides[d][k];
      }
      if (span > INT32_MAX) return false;
    }
    return true;
  }
};

template <int N, class index_t> struct OffsetCalc {
  int dims = 0;
  IntDivider<index_t> sizes[kMaxDims];
  index_t strides[kMaxDims][N];

  explicit OffsetCalc(const ElementwisePlan& p) : dims(p.ndim) {
    for (int d = 0; d < p.ndim; ++d) {
      sizes[d] = IntDivider<index_t>(index_t(p.shape[d]));
      for (int k = 0; k < N; ++k) strides[d][k] = index_t(p.strides[d][k]);
    }
  }

  __device__ __forceinline__ void get(index_t linear, index_t (&off)[N]) const {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll
    for (int d = 0; d < kMaxDims; ++d) {
      if (d == dims) break;
      DivMod<index_t> dm = sizes[d].divmod(linear);
      linear = dm.div;
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += dm.mod * strides[d][k];
    }
  }
};

// ---- kernels ----------------------------------------------------------------------------

template <class T, int N>
__device__ __forceinline__ T load_arg(const KernelArgs<N>& a, int k, int64_t byte_offset) {
  if (a.is_value[k]) return from_bits<T>(a.bits[k]);
  return *reinterpret_cast<const T*>(a.data[k] + byte_offset);
}

template <class Out, class... In, int N, class F, size_t... I, class index_t>
__device__ __forceinline__ void apply_at(const KernelArgs<N>& a, const index_t (&off)[N], const F& f,
                                         std::index_sequence<I...>) {
  *reinterpret_cast<Out*>(a.data[0] + off[0]) = f(load_arg<In>(a, int(I) + 1, int64_t(off[I + 1]))...);
}

template <int N, class index_t, class F, class Out, class... In>
__global__ void __launch_bounds__(kThreads) strided_kernel(index_t numel, OffsetCalc<N, index_t> oc, KernelArgs<N> a, F f) {
  index_t base = index_t(blockIdx.x) * (kThreads * kUnroll) + threadIdx.x;
#pragma unroll
  for (int j = 0; j < kUnroll; ++j) {
    index_t idx = base + index_t(j) * kThreads;
    if (idx < numel) {
      index_t off[N];
      oc.get(idx, off);
      apply_at<Out, In...>(a, off, f, std::index_sequence_for<In...>{});
    }
  }
}

template <int VEC, class T> struct alignas(sizeof(T) * VEC) VecOf {
  T v[VEC];
};

template <int VEC, class T, int N>
__device__ __forceinline__ VecOf<VEC, T> load_vec(const KernelArgs<N>& a, int k, int64_t vi) {
  VecOf<VEC, T> r;
  if (a.is_value[k]) {
    T s = from_bits<T>(a.bits[k]);
#pragma unroll
    for (int i = 0; i < VEC; ++i) r.v[i] = s;
  } else {
    r = reinterpret_cast<const VecOf<VEC, T>*>(a.data[k])[vi];
  }
  return r;
}

template <int VEC, class Out, class... In, int N, class F, size_t... I>
__device__ __forceinline__ void apply_vec(const KernelArgs<N>& a, int64_t vi, const F& f, std::index_sequence<I...>) {
  auto compute = [&](const auto&... vecs) {
    VecOf<VEC, Out> o;
#pragma unroll
    for (int i = 0; i < VEC; ++i) o.v[i] = f(vecs.v[i]...);
    reinterpret_cast<VecOf<VEC, Out>*>(a.data[0])[vi] = o;
  };
  compute(load_vec<VEC, In>(a, int(I) + 1, vi)...);
}

template <int VEC, class Out, class... In, int N, class F, size_t... I>
__device__ __forceinline__ void apply_contig(const KernelArgs<N>& a, int64_t i, const F& f, std::index_sequence<I...>) {
  reinterpret_cast<Out*>(a.data[0])[i] = f(load_arg<In>(a, int(I) + 1, i * int64_t(sizeof(In)))...);
}

template <int VEC, int N, class F, class Out, class... In>
__global__ void __launch_bounds__(kThreads) vectorized_kernel(int64_t numel, KernelArgs<N> a, F f) {
  int64_t nvec = numel / VEC;
  int64_t tid = int64_t(blockIdx.x) * kThreads + threadIdx.x;
  int64_t step = int64_t(gridDim.x) * kThreads;
  for (int64_t vi = tid; vi < nvec; vi += step) apply_vec<VEC, Out, In...>(a, vi, f, std::index_sequence_for<In...>{});
  int64_t i = nvec * VEC + tid;  // the tail (fewer than VEC elements)
  if (i < numel) apply_contig<VEC, Out, In...>(a, i, f, std::index_sequence_for<In...>{});
}

template <class... Ts> constexpr int vec_size() {
  size_t widest = 1;
  ((widest = sizeof(Ts) > widest ? sizeof(Ts) : widest), ...);
  int v = int(16 / widest);
  return v > 8 ? 8 : v < 1 ? 1 : v;
}

// ---- launcher ---------------------------------------------------------------------------

// out (a device tensor of device type Out) = f(inputs...), inputs of device types In... .
template <class Out, class... In, class F>
void gpu_kernel(const Tensor& out, std::array<Operand, sizeof...(In)> ins, const F& f) {
  constexpr int N = sizeof...(In) + 1;
  int64_t numel = out.numel();
  if (numel == 0) return;
  const int64_t esz[N] = {int64_t(sizeof(Out)), int64_t(sizeof(In))...};
  KernelArgs<N> a;
  a.data[0] = static_cast<char*>(out.data_ptr());
  a.bits[0] = 0;
  a.is_value[0] = false;
  for (int k = 0; k < N - 1; ++k) {
    a.data[k + 1] = ins[k].tensor ? static_cast<char*>(ins[k].tensor->data_ptr()) : nullptr;
    a.bits[k + 1] = ins[k].bits;
    a.is_value[k + 1] = ins[k].is_value();
  }
  ElementwisePlan plan(out, ins.data(), N - 1, esz);
  cuda::DeviceGuard guard(out.device().index);
  cudaStream_t stream = cuda::current_stream(out.device().index).handle();

  constexpr int VEC = vec_size<Out, In...>();
  bool aligned = true;
  for (int k = 0; k < N; ++k)
    if (!a.is_value[k] && uintptr_t(a.data[k]) % uintptr_t(esz[k] * VEC) != 0) aligned = false;
  if (plan.contiguous(esz, ins.data()) && aligned) {
    int64_t nvec = numel / VEC;
    int64_t blocks = (nvec + kThreads - 1) / kThreads;
    if (blocks < 1) blocks = 1;
    if (blocks > 65536) blocks = 65536;
    vectorized_kernel<VEC, N, F, Out, In...><<<unsigned(blocks), kThreads, 0, stream>>>(numel, a, f);
    VT_CUDA_KERNEL_LAUNCH_CHECK();
    return;
  }
  int64_t blocks = (numel + kThreads * kUnroll - 1) / (kThreads * kUnroll);
  if (plan.fits_32bit()) {
    strided_kernel<N, uint32_t, F, Out, In...><<<unsigned(blocks), kThreads, 0, stream>>>(
        uint32_t(numel), OffsetCalc<N, uint32_t>(plan), a, f);
  } else {
    VT_CHECK(blocks < (int64_t(1) << 31), "CUDA elementwise: ", numel, " elements are too many for one launch");
    strided_kernel<N, uint64_t, F, Out, In...><<<unsigned(blocks), kThreads, 0, stream>>>(
        uint64_t(numel), OffsetCalc<N, uint64_t>(plan), a, f);
  }
  VT_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace vt::cuda_kernels
