#pragma once
// CPU elementwise machinery: an N-operand strided iteration over a broadcast shape, with
// dimensions coalesced and a fast path for contiguous operands, split across threads for
// large tensors. See Note [Elementwise loops].
#include <omp.h>

#include <array>
#include <cstring>

#include "core/tensor.h"

namespace vt::cpu {

// Note [Elementwise loops]
// Operand 0 is the output. Each operand gets byte strides aligned to the output shape (0 where
// it broadcasts). Adjacent dims that are contiguous for every operand are merged, so a
// contiguous tensor becomes one long inner dim. The inner dim is handed to a callback with a
// length and per-operand strides; callbacks specialize the all-contiguous and scalar-operand
// cases so the compiler vectorizes them. Above kParallelGrain elements the linear index space
// is cut into one range per OpenMP thread.

constexpr int kMaxOperands = 5;
constexpr int kMaxDims = 16;
constexpr int64_t kParallelGrain = 32768;

struct StridedIter {
  int nops = 0;
  int ndim = 0;
  int64_t numel = 1;
  int64_t shape[kMaxDims];                     // innermost dim last
  int64_t strides[kMaxDims][kMaxOperands];     // bytes
  char* base[kMaxOperands];

  // out_shape: the iteration shape; ops[i] must broadcast to it.
  StridedIter(const Tensor* const* ops, int n, IntArrayRef out_shape);

  template <class F>  // F(char** ptrs, const int64_t* inner_strides, int64_t n)
  void run_range(int64_t begin, int64_t end, F&& f) const {
    if (begin >= end) return;
    int64_t inner = ndim ? shape[ndim - 1] : 1;
    int64_t idx[kMaxDims] = {};
    int64_t rem = begin;
    for (int d = ndim - 1; d >= 0; --d) { idx[d] = rem % shape[d]; rem /= shape[d]; }
    char* ptrs[kMaxOperands];
    int64_t inner_strides[kMaxOperands];
    for (int k = 0; k < nops; ++k) inner_strides[k] = ndim ? strides[ndim - 1][k] : 0;
    int64_t pos = begin;
    while (pos < end) {
      for (int k = 0; k < nops; ++k) {
        char* p = base[k];
        for (int d = 0; d < ndim; ++d) p += idx[d] * strides[d][k];
        ptrs[k] = p;
      }
      int64_t start_inner = ndim ? idx[ndim - 1] : 0;
      int64_t n = std::min(inner - start_inner, end - pos);
      f(ptrs, inner_strides, n);
      pos += n;
      // advance the multi-index by n along the inner dim, carrying outward
      if (ndim) {
        idx[ndim - 1] += n;
        for (int d = ndim - 1; d > 0 && idx[d] >= shape[d]; --d) { idx[d] = 0; idx[d - 1]++; }
      }
    }
  }

  template <class F>
  void run(F&& f) const {
    if (numel == 0) return;
    if (numel < kParallelGrain || omp_get_max_threads() == 1 || omp_in_parallel()) { run_range(0, numel, f); return; }
#pragma omp parallel
    {
      int nt = omp_get_num_threads(), t = omp_get_thread_num();
      int64_t chunk = (numel + nt - 1) / nt;
      run_range(t * chunk, std::min(numel, (t + 1) * chunk), f);
    }
  }
};

// out[i] = f(in0[i], in1[i], ...): operands already have the C++ types given (f computes in
// opmath and returns something convertible to Tout).
template <class Tout, class... Tin, class F>
void elementwise(const Tensor& out, std::array<const Tensor*, sizeof...(Tin)> inputs, F f) {
  constexpr int N = sizeof...(Tin);
  const Tensor* ops[N + 1];
  ops[0] = &out;
  for (int i = 0; i < N; ++i) ops[i + 1] = inputs[i];
  StridedIter it(ops, N + 1, out.sizes());
  it.run([&](char** ptrs, const int64_t* st, int64_t n) {
    [&]<size_t... I>(std::index_sequence<I...>) {
      Tout* __restrict__ o = reinterpret_cast<Tout*>(ptrs[0]);
      bool out_contig = st[0] == int64_t(sizeof(Tout));
      if (out_contig && ((st[I + 1] == int64_t(sizeof(Tin))) && ...)) {
        for (int64_t i = 0; i < n; ++i) o[i] = Tout(f(reinterpret_cast<const Tin*>(ptrs[I + 1])[i]...));
        return;
      }
      if constexpr (N == 2) {
        using A = std::tuple_element_t<0, std::tuple<Tin...>>;
        using B = std::tuple_element_t<1, std::tuple<Tin...>>;
        if (out_contig && st[1] == int64_t(sizeof(A)) && st[2] == 0) {
          const A* __restrict__ a = reinterpret_cast<const A*>(ptrs[1]);
          const B b = *reinterpret_cast<const B*>(ptrs[2]);
          for (int64_t i = 0; i < n; ++i) o[i] = Tout(f(a[i], b));
          return;
        }
        if (out_contig && st[1] == 0 && st[2] == int64_t(sizeof(B))) {
          const A a = *reinterpret_cast<const A*>(ptrs[1]);
          const B* __restrict__ b = reinterpret_cast<const B*>(ptrs[2]);
          for (int64_t i = 0; i < n; ++i) o[i] = Tout(f(a, b[i]));
          return;
        }
      }
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<Tout*>(ptrs[0] + i * st[0]) =
            Tout(f(*reinterpret_cast<const Tin*>(ptrs[I + 1] + i * st[I + 1])...));
    }(std::index_sequence_for<Tin...>{});
  });
}

}  // namespace vt::cpu
