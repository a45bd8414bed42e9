#pragma once
// The CPU reduction engine: a tensor reduced over some of its dims, viewed as a contiguous
// [O, R, I] buffer. See Note [CPU reduction loops]. Used by reduce.cpp; the row helpers
// (reduce_row, lane_sum, for_tasks) also by the softmax and normalization kernels.
#include <omp.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "ops/cpu/vec_math.h"
#include "ops/reduction_util.h"

namespace vt::cpu {

// Note [CPU reduction loops]
// The layout is planned by plan_reduction (Note [Reduction layouts] in ops/reduction_util.h).
// I == 1 is the inner reduction: each row is reduced with kLanes independent accumulators, so
// the compiler vectorizes it without reassociating, and pairwise over leaves of kLeaf elements
// so float sums of long rows stay accurate. I > 1 is the outer reduction: rows of a block of
// up to kBlock kept elements are accumulated into a small buffer, vectorized along the kept
// dim (the bias-gradient sum over the batch), pairwise over leaves of kRowLeaf rows. float
// max / min rows use explicit vectors instead (Note [Explicit vectors] in vec_math.cpp).
// Work above kReduceGrain elements is split across OpenMP threads: over rows or column
// blocks when there are enough of them, else each row is cut into chunks whose partial
// results are merged in order (deterministic for a given thread count).

constexpr int kLanes = 16;
constexpr int64_t kLeaf = 4096;
constexpr int64_t kBlock = 256;
constexpr int64_t kRowLeaf = 256;
constexpr int64_t kReduceGrain = 32768;

// The accumulator of a reduction over T: float for float and the 16-bit floats, double for
// double, int64 for the integers.
template <class T> struct AccType { using type = opmath_t<T>; };
template <> struct AccType<int32_t> { using type = int64_t; };
template <class T> using acc_t = typename AccType<T>::type;

// Op concept: acc_t identity(), acc step(acc, T), acc merge(acc, acc), T finish(acc).
template <class T>
struct SumOp {
  using A = acc_t<T>;
  A divisor = A(1);
  bool divide = false;  // mean
  A identity() const { return A(0); }
  A step(A a, T x) const { return a + A(x); }
  A merge(A a, A b) const { return a + b; }
  T finish(A a) const { return T(divide ? a / divisor : a); }
};


// max / min propagating NaN, as torch.amax does.
template <class T, bool IsMax>
struct MaxMinOp {
  using A = opmath_t<T>;
  A identity() const { return IsMax ? lowest_value<A>() : highest_value<A>(); }
  A step(A a, T xv) const {
    A x = A(xv);
    bool take = IsMax ? (x > a) : (x < a);
    return (x != x || take) ? x : a;
  }
  A merge(A a, A b) const { return step(a, T(b)); }
  T finish(A a) const { return T(a); }
};

template <class T, class Op>
typename Op::A reduce_row(const T* __restrict__ x, int64_t n, const Op& op) {
  using A = typename Op::A;
  if (n > kLeaf) {
    int64_t h = (n / 2 + kLanes - 1) / kLanes * kLanes;
    return op.merge(reduce_row(x, h, op), reduce_row(x + h, n - h, op));
  }
  A acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = op.identity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] = op.step(acc[j], x[i + j]);
  for (; i < n; ++i) acc[0] = op.step(acc[0], x[i]);
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] = op.merge(acc[j], acc[j + w]);
  return acc[0];
}

// float max / min rows use explicit vectors (Note [Explicit vectors] in vec_math.h).
template <bool IsMax>
float reduce_row(const float* x, int64_t n, const MaxMinOp<float, IsMax>&) {
  return extreme_f32<IsMax>(x, n);
}

inline bool reduce_in_parallel(int64_t work) {
  return work >= kReduceGrain && omp_get_max_threads() > 1 && !omp_in_parallel();
}

// y[o] = finish(reduce of the contiguous row x[o*R .. o*R+R)).
template <class T, class Op>
void inner_reduce(const T* x, T* y, int64_t O, int64_t R, const Op& op) {
  using A = typename Op::A;
  if (!reduce_in_parallel(O * R)) {
    for (int64_t o = 0; o < O; ++o) y[o] = op.finish(reduce_row(x + o * R, R, op));
    return;
  }
  int nt = omp_get_max_threads();
  if (O >= nt) {
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < O; ++o) y[o] = op.finish(reduce_row(x + o * R, R, op));
    return;
  }
  // Few long rows: each row is cut into chunks reduced in parallel, merged in order.
  int64_t chunks = (nt + O - 1) / O;
  int64_t clen = ((R + chunks - 1) / chunks + kLanes - 1) / kLanes * kLanes;
  std::unique_ptr<A[]> part(new A[size_t(O * chunks)]);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < O * chunks; ++t) {
    int64_t o = t / chunks, b = (t % chunks) * clen, e = std::min(R, b + clen);
    part[t] = b < e ? reduce_row(x + o * R + b, e - b, op) : op.identity();
  }
  for (int64_t o = 0; o < O; ++o) {
    A a = part[o * chunks];
    for (int64_t c = 1; c < chunks; ++c) a = op.merge(a, part[o * chunks + c]);
    y[o] = op.finish(a);
  }
}

// acc[j] = reduce over r < R of x[r*I + j], j < w (w <= kBlock).
template <class T, class Op>
void reduce_rows(const T* x, int64_t R, int64_t I, int64_t w, typename Op::A* __restrict__ acc, const Op& op) {
  using A = typename Op::A;
  if (R > kRowLeaf) {
    int64_t h = R / 2;
    reduce_rows(x, h, I, w, acc, op);
    A tmp[kBlock];
    reduce_rows(x + h * I, R - h, I, w, tmp, op);
    for (int64_t j = 0; j < w; ++j) acc[j] = op.merge(acc[j], tmp[j]);
    return;
  }
  for (int64_t j = 0; j < w; ++j) acc[j] = op.identity();
  for (int64_t r = 0; r < R; ++r) {
    const T* __restrict__ row = x + r * I;
    for (int64_t j = 0; j < w; ++j) acc[j] = op.step(acc[j], row[j]);
  }
}

template <bool IsMax>
void reduce_rows(const float* x, int64_t R, int64_t I, int64_t w, float* acc, const MaxMinOp<float, IsMax>& op) {
  for (int64_t j = 0; j < w; ++j) acc[j] = op.identity();
  for (int64_t r = 0; r < R; ++r) extreme_into_f32<IsMax>(acc, x + r * I, w);
}

// y[o*I + i] = finish(reduce over r of x[(o*R + r)*I + i]).
template <class T, class Op>
void outer_reduce(const T* x, T* y, int64_t O, int64_t R, int64_t I, const Op& op) {
  using A = typename Op::A;
  int64_t nblk = (I + kBlock - 1) / kBlock, tasks = O * nblk;
  auto run_task = [&](int64_t t) {
    int64_t o = t / nblk, i0 = (t % nblk) * kBlock, w = std::min(kBlock, I - i0);
    A acc[kBlock];
    reduce_rows(x + o * R * I + i0, R, I, w, acc, op);
    for (int64_t j = 0; j < w; ++j) y[o * I + i0 + j] = op.finish(acc[j]);
  };
  bool par = reduce_in_parallel(O * R * I);
  int nt = omp_get_max_threads();
  if (!par) {
    for (int64_t t = 0; t < tasks; ++t) run_task(t);
    return;
  }
  if (tasks >= nt || R < 2 * kRowLeaf) {
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < tasks; ++t) run_task(t);
    return;
  }
  // Few column blocks, many rows: the rows are cut into chunks reduced in parallel.
  int64_t chunks = std::min<int64_t>((nt + tasks - 1) / tasks, (R + kRowLeaf - 1) / kRowLeaf);
  int64_t clen = (R + chunks - 1) / chunks;
  std::unique_ptr<A[]> part(new A[size_t(tasks * chunks * kBlock)]);  // not vector: vector<bool> has no data()
#pragma omp parallel for schedule(static)
  for (int64_t u = 0; u < tasks * chunks; ++u) {
    int64_t t = u / chunks, c = u % chunks;
    int64_t o = t / nblk, i0 = (t % nblk) * kBlock, w = std::min(kBlock, I - i0);
    int64_t b = c * clen, e = std::min(R, b + clen);
    A* dst = part.get() + u * kBlock;
    if (b < e) reduce_rows(x + (o * R + b) * I + i0, e - b, I, w, dst, op);
    else for (int64_t j = 0; j < w; ++j) dst[j] = op.identity();
  }
  for (int64_t t = 0; t < tasks; ++t) {
    int64_t o = t / nblk, i0 = (t % nblk) * kBlock, w = std::min(kBlock, I - i0);
    A* first = part.get() + t * chunks * kBlock;
    for (int64_t c = 1; c < chunks; ++c)
      for (int64_t j = 0; j < w; ++j) first[j] = op.merge(first[j], first[c * kBlock + j]);
    for (int64_t j = 0; j < w; ++j) y[o * I + i0 + j] = op.finish(first[j]);
  }
}

// sum over i < n of f(i), with kLanes independent accumulators so it vectorizes.
template <class A, class F>
inline A lane_sum(int64_t n, F f) {
  A acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += f(i + j);
  for (; i < n; ++i) acc[0] += f(i);
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

// Runs body(task) for task < tasks, across threads when the whole job is large.
template <class F>
void for_tasks(int64_t tasks, int64_t work, F body) {
#pragma omp parallel for schedule(static) if (reduce_in_parallel(work) && tasks > 1)
  for (int64_t t = 0; t < tasks; ++t) body(t);
}

// Reduces the planned layout into y (O*I elements).
template <class T, class Op>
void run_reduction(const ReduceLayout& L, T* y, const Op& op) {
  if (L.O * L.I == 0) return;
  const T* x = L.src.data<T>();
  if (L.I == 1) inner_reduce(x, y, L.O, L.R, op);
  else outer_reduce(x, y, L.O, L.R, L.I, op);
}

}  // namespace vt::cpu
