// CPU kernels of the indexing ops: embedding, gather, index_select, masked_select, scatter_add,
// index_add. See Note [Indexing kernels].
#include <optional>

#include "ops/cpu/loops.h"
#include "ops/elementwise_util.h"
#include "ops/embedding_args.h"
#include "ops/indexing_plan.h"

namespace vt::cpu {
namespace {

// Note [Indexing kernels]
// Every op here reads or writes along one indexed dim of a tensor. Each is expressed as an
// elementwise loop over an iteration shape S (the output's for reads, the source's for writes)
// with three operands: the data tensor "restrided" to S with stride 0 along the indexed dim (so
// it points at the start of the indexed line), the other data operand, and the index viewed as
// S (for index_select, index_add and embedding the index is broadcast with stride 0 everywhere
// but the indexed dim). The kernel then adds index * stride(dim) to the restrided pointer.
// The argument checks and these operands come from ops/indexing_plan.h (shared with CUDA).
// Index values are validated in a pass before the loop, so the (possibly parallel) loop never
// throws. Gathers copy raw elements (any dtype, by size); scatters accumulate in opmath and run
// serially because two index entries may name the same destination.

template <class F> void dispatch_index(const Tensor& index, const char* op, F f) {
  if (index.dtype() == DType::Int64) return f.template operator()<int64_t>();
  if (index.dtype() == DType::Int32) return f.template operator()<int32_t>();
  detail::throw_error(ErrorKind::Type, op, ": expected the index to be an int64 or int32 tensor, got ", index.dtype());
}

// Raw element copies by size: gathers move bits and need no arithmetic.
template <class F> void dispatch_bytes(DType dt, F f) {
  switch (itemsize(dt)) {
    case 1: return f.template operator()<uint8_t>();
    case 2: return f.template operator()<uint16_t>();
    case 4: return f.template operator()<uint32_t>();
    default: return f.template operator()<uint64_t>();
  }
}

// out[p] = src_r[p + index[p] * dim_stride] over out's shape (see Note [Indexing kernels]).
void gather_loop(const Tensor& out, const Tensor& src_r, const Tensor& index_s, int64_t dim_stride) {
  const Tensor* ops3[3] = {&out, &src_r, &index_s};
  StridedIter it(ops3, 3, out.sizes());
  dispatch_index(index_s, "gather", [&]<class I>() {
    dispatch_bytes(out.dtype(), [&]<class U>() {
      int64_t step = dim_stride * int64_t(sizeof(U));
      it.run([&](char** p, const int64_t* st, int64_t n) {
        if (st[2] == 0 && st[0] == int64_t(sizeof(U)) && st[1] == int64_t(sizeof(U))) {  // one index, a contiguous run
          std::memcpy(p[0], p[1] + int64_t(*reinterpret_cast<const I*>(p[2])) * step, size_t(n) * sizeof(U));
          return;
        }
        for (int64_t i = 0; i < n; ++i) {
          int64_t idx = *reinterpret_cast<const I*>(p[2] + i * st[2]);
          *reinterpret_cast<U*>(p[0] + i * st[0]) = *reinterpret_cast<const U*>(p[1] + i * st[1] + idx * step);
        }
      });
    });
  });
}

// dst_r[p + index[p] * dim_stride] += src[p] over src_s's shape, serially.
void scatter_add_loop(const char* op, const Tensor& dst_r, const Tensor& src_s, const Tensor& index_s, int64_t dim_stride) {
  const Tensor* ops3[3] = {&dst_r, &src_s, &index_s};
  StridedIter it(ops3, 3, src_s.sizes());
  dispatch_index(index_s, op, [&]<class I>() {
    VT_DISPATCH_NUMERIC(dst_r.dtype(), op, [&]<class T>() {
      using M = opmath_t<T>;
      int64_t step = dim_stride * int64_t(sizeof(T));
      it.run_range(0, it.numel, [&](char** p, const int64_t* st, int64_t n) {
        for (int64_t i = 0; i < n; ++i) {
          int64_t idx = *reinterpret_cast<const I*>(p[2] + i * st[2]);
          T* d = reinterpret_cast<T*>(p[0] + i * st[0] + idx * step);
          *d = T(M(*d) + M(*reinterpret_cast<const T*>(p[1] + i * st[1])));
        }
      });
    });
  });
}

// ---- reads ------------------------------------------------------------------------------

Tensor embedding_cpu(const Tensor& weight, const Tensor& indices) {
  check_same_device("embedding", {&weight, &indices});
  VT_CHECK_VALUE(weight.dim() == 2, "embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape ",
                 shape_str(weight.sizes()));
  check_index_dtype("embedding", indices);
  int64_t V = weight.sizes()[0], D = weight.sizes()[1];
  auto bad = first_bad_index(indices, V);
  VT_CHECK_INDEX(!bad, "embedding: index ", bad.value_or(0), " is out of range for a weight of ", V,
                 " rows (expected 0 <= index < ", V, ")");
  DimVector shape(indices.sizes());
  shape.push_back(D);
  Tensor out = empty_tensor(shape, weight.dtype(), weight.device());
  if (out.numel() == 0) return out;
  int64_t nd = int64_t(shape.size());
  DimVector wst(size_t(nd), 0), ist(size_t(nd), 0);
  wst[nd - 1] = weight.strides()[1];
  for (int64_t d = 0; d < nd - 1; ++d) ist[d] = indices.strides()[d];
  gather_loop(out, make_view(weight, shape, wst, weight->offset()), make_view(indices, shape, ist, indices->offset()),
              weight.strides()[0]);
  return out;
}

// The dense weight gradient of embedding: each grad row added into the row its index names,
// serially in index order (index_add), so repeated indices accumulate deterministically.
Tensor embedding_backward_cpu(const Tensor& grad, const Tensor& indices, int64_t num_weights) {
  int64_t D = check_embedding_backward_args(grad, indices, num_weights);
  NoGradGuard no_grad;
  Tensor z = ops::zeros({num_weights, D}, grad.dtype(), grad.device());
  if (D == 0) return z;  // reshape cannot infer the -1 below from zero elements; nothing to add
  Tensor flat = ops::reshape(indices, {-1});
  check_index_values("embedding_backward", flat, 0, num_weights);  // named here, not as index_add's error
  return ops::index_add(z, 0, flat, ops::reshape(grad, {-1, D}));
}

// Reads: the values are checked in a pass of their own, then the loop moves raw elements.
Tensor indexed_read(const char* op, const IndexLoop& L) {
  if (!L.index.defined()) return L.result;
  check_index_values(op, L.index, L.dim, L.dim_size);
  if (L.has_work()) gather_loop(L.plain, L.indexed, L.index_view, L.dim_stride);
  return L.result;
}

Tensor gather_cpu(const Tensor& self, int64_t dim, const Tensor& index) {
  return indexed_read("gather", plan_gather(self, dim, index));
}

Tensor index_select_cpu(const Tensor& self, int64_t dim, const Tensor& index) {
  return indexed_read("index_select", plan_index_select(self, dim, index));
}

Tensor masked_select_cpu(const Tensor& self, const Tensor& mask) {
  check_same_device("masked_select", {&self, &mask});
  VT_CHECK_TYPE(mask.dtype() == DType::Bool, "masked_select: expected mask to be a bool tensor, got ", mask.dtype());
  DimVector shape = broadcast_shapes(self.sizes(), mask.sizes(), "masked_select");
  const Tensor* ops2[2] = {&self, &mask};
  StridedIter it(ops2, 2, shape);
  // Row-major order decides the output order, so both passes run serially.
  int64_t count = 0;
  it.run_range(0, it.numel, [&](char** p, const int64_t* st, int64_t n) {
    for (int64_t i = 0; i < n; ++i) count += *reinterpret_cast<const bool*>(p[1] + i * st[1]);
  });
  Tensor out = empty_tensor({count}, self.dtype(), self.device());
  dispatch_bytes(self.dtype(), [&]<class U>() {
    U* o = out.data<U>();
    it.run_range(0, it.numel, [&](char** p, const int64_t* st, int64_t n) {
      for (int64_t i = 0; i < n; ++i)
        if (*reinterpret_cast<const bool*>(p[1] + i * st[1])) *o++ = *reinterpret_cast<const U*>(p[0] + i * st[0]);
    });
  });
  return out;
}

// ---- accumulating writes (out-of-place: a copy of self receives the sums) ------------------

Tensor indexed_accumulate(const char* op, const IndexLoop& L) {
  if (!L.index.defined()) return L.result;
  check_index_values(op, L.index, L.dim, L.dim_size);
  if (L.has_work()) scatter_add_loop(op, L.indexed, L.plain, L.index_view, L.dim_stride);
  return L.result;
}

Tensor scatter_add_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return indexed_accumulate("scatter_add", plan_scatter_add(self, dim, index, src));
}

Tensor index_add_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  return indexed_accumulate("index_add", plan_index_add(self, dim, index, source));
}

}  // namespace

VT_REGISTER_KERNEL("vt::embedding", CPU, embedding_cpu);
VT_REGISTER_KERNEL("vt::embedding_backward", CPU, embedding_backward_cpu);
VT_REGISTER_KERNEL("vt::gather", CPU, gather_cpu);
VT_REGISTER_KERNEL("vt::index_select", CPU, index_select_cpu);
VT_REGISTER_KERNEL("vt::masked_select", CPU, masked_select_cpu);
VT_REGISTER_KERNEL("vt::scatter_add", CPU, scatter_add_cpu);
VT_REGISTER_KERNEL("vt::index_add", CPU, index_add_cpu);

}  // namespace vt::cpu
