// CPU kernels of the indexing ops: embedding, gather, index_select, masked_select, scatter_add,
// index_add. See Note [Indexing kernels].
#include <optional>

#include "ops/cpu/elementwise_util.h"
#include "ops/cpu/loops.h"
#include "ops/embedding_args.h"

namespace vt::cpu {
namespace {

// Note [Indexing kernels]
// Every op here reads or writes along one indexed dim of a tensor. Each is expressed as an
// elementwise loop over an iteration shape S (the output's for reads, the source's for writes)
// with three operands: the data tensor "restrided" to S with stride 0 along the indexed dim (so
// it points at the start of the indexed line), the other data operand, and the index viewed as
// S (for index_select, index_add and embedding the index is broadcast with stride 0 everywhere
// but the indexed dim). The kernel then adds index * stride(dim) to the restrided pointer.
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

// The first index value outside [0, size), if any (negative indices are errors, as in torch).
std::optional<int64_t> first_bad_index(const Tensor& index, int64_t size) {
  std::optional<int64_t> bad;
  dispatch_index(index, "index", [&]<class I>() {
    const Tensor* op[1] = {&index};
    StridedIter it(op, 1, index.sizes());
    it.run_range(0, it.numel, [&](char** p, const int64_t* st, int64_t n) {
      if (bad) return;
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = *reinterpret_cast<const I*>(p[0] + i * st[0]);
        if (v < 0 || v >= size) { bad = v; return; }
      }
    });
  });
  return bad;
}

void check_index_values(const char* op, const Tensor& index, int64_t dim, int64_t size) {
  auto bad = first_bad_index(index, size);
  VT_CHECK_INDEX(!bad, op, ": index ", bad.value_or(0), " is out of bounds for dimension ", dim, " with size ", size);
}

// A 0-d tensor as shape [1], so one indexed dim always exists.
Tensor as_1d(const Tensor& t) { return t.dim() == 0 ? make_view(t, DimVector{1}, DimVector{1}, t->offset()) : t; }

// t viewed with `sizes`, its strides, and stride 0 along `dim`.
Tensor restrided(const Tensor& t, IntArrayRef sizes, int64_t dim) {
  DimVector st(t.strides());
  st[dim] = 0;
  return make_view(t, sizes, st, t->offset());
}

// A 1-D index viewed as `sizes`, varying only along `dim`.
Tensor index_along(const Tensor& index, IntArrayRef sizes, int64_t dim) {
  DimVector st(sizes.size(), 0);
  st[dim] = index.dim() == 0 ? 0 : index.strides()[0];
  return make_view(index, sizes, st, index->offset());
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

void check_index_dtype(const char* op, const Tensor& index) {
  VT_CHECK_TYPE(index.dtype() == DType::Int64 || index.dtype() == DType::Int32, op,
                ": expected the index to be an int64 or int32 tensor, got ", index.dtype());
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
  return ops::index_add(z, 0, ops::reshape(indices, {-1}), ops::reshape(grad, {-1, D}));
}

Tensor gather_cpu(const Tensor& self_in, int64_t dim, const Tensor& index_in) {
  check_same_device("gather", {&self_in, &index_in});
  check_index_dtype("gather", index_in);
  VT_CHECK_VALUE(index_in.dim() == self_in.dim() || index_in.numel() == 0, "gather: index ", shape_str(index_in.sizes()),
                 " must have as many dimensions as self ", shape_str(self_in.sizes()));
  int64_t d = wrap_dim(dim, self_in.dim(), "gather");
  Tensor out = empty_tensor(DimVector(index_in.sizes()), self_in.dtype(), self_in.device());
  if (out.numel() == 0) return out;
  Tensor self = as_1d(self_in), index = as_1d(index_in);
  for (int64_t i = 0; i < self.dim(); ++i)
    VT_CHECK_VALUE(i == d || index.sizes()[i] <= self.sizes()[i], "gather: index of shape ", shape_str(index.sizes()),
                   " must be no larger than self of shape ", shape_str(self.sizes()), " apart from dimension ", d,
                   " (dimension ", i, ": ", index.sizes()[i], " vs ", self.sizes()[i], ")");
  check_index_values("gather", index, d, self.sizes()[d]);
  gather_loop(as_1d(out), restrided(self, index.sizes(), d), index, self.strides()[d]);
  return out;
}

Tensor index_select_cpu(const Tensor& self_in, int64_t dim, const Tensor& index) {
  check_same_device("index_select", {&self_in, &index});
  check_index_dtype("index_select", index);
  VT_CHECK_VALUE(index.dim() <= 1, "index_select: index must be 0-D or 1-D, got shape ", shape_str(index.sizes()));
  int64_t d = wrap_dim(dim, self_in.dim(), "index_select");
  Tensor self = as_1d(self_in);
  check_index_values("index_select", index, d, self.sizes()[d]);
  DimVector shape(self.sizes());
  shape[d] = index.numel();
  Tensor out = empty_tensor(shape, self.dtype(), self.device());
  if (out.numel() > 0) gather_loop(out, restrided(self, shape, d), index_along(index, shape, d), self.strides()[d]);
  // A 0-d self picks one element: the result is 0-d too, as in torch.
  return self_in.dim() == 0 && index.numel() == 1 ? make_view(out, DimVector{}, DimVector{}, 0) : out;
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

Tensor scatter_add_cpu(const Tensor& self_in, int64_t dim, const Tensor& index_in, const Tensor& src_in) {
  check_same_device("scatter_add", {&self_in, &index_in, &src_in});
  check_index_dtype("scatter_add", index_in);
  VT_CHECK_TYPE(self_in.dtype() == src_in.dtype(), "scatter_add: expected self and src to have the same dtype, got ",
                self_in.dtype(), " and ", src_in.dtype());
  int64_t d = wrap_dim(dim, self_in.dim(), "scatter_add");
  Tensor out = ops::clone(self_in);
  if (index_in.numel() == 0) return out;
  VT_CHECK_VALUE(index_in.dim() == self_in.dim() && src_in.dim() == self_in.dim(), "scatter_add: self ",
                 shape_str(self_in.sizes()), ", index ", shape_str(index_in.sizes()), " and src ", shape_str(src_in.sizes()),
                 " must have the same number of dimensions");
  Tensor self = as_1d(out), index = as_1d(index_in), src = as_1d(src_in);
  for (int64_t i = 0; i < self.dim(); ++i)
    VT_CHECK_VALUE(index.sizes()[i] <= src.sizes()[i] && (i == d || index.sizes()[i] <= self.sizes()[i]),
                   "scatter_add: index of shape ", shape_str(index.sizes()), " must be no larger than src of shape ",
                   shape_str(src.sizes()), ", and no larger than self of shape ", shape_str(self.sizes()),
                   " apart from dimension ", d, " (mismatch at dimension ", i, ")");
  check_index_values("scatter_add", index, d, self.sizes()[d]);
  scatter_add_loop("scatter_add", restrided(self, index.sizes(), d), make_view(src, index.sizes(), src.strides(), src->offset()),
                   index, self.strides()[d]);
  return out;
}

Tensor index_add_cpu(const Tensor& self_in, int64_t dim, const Tensor& index, const Tensor& source_in) {
  check_same_device("index_add", {&self_in, &index, &source_in});
  check_index_dtype("index_add", index);
  VT_CHECK_VALUE(index.dim() <= 1, "index_add: index must be 0-D or 1-D, got shape ", shape_str(index.sizes()));
  VT_CHECK_TYPE(self_in.dtype() == source_in.dtype(), "index_add: expected self and source to have the same dtype, got ",
                self_in.dtype(), " and ", source_in.dtype());
  int64_t d = wrap_dim(dim, self_in.dim(), "index_add");
  Tensor out = ops::clone(self_in);
  Tensor self = as_1d(out), source = as_1d(source_in);
  bool ok = source.dim() == self.dim() && source.sizes()[d] == index.numel();
  for (int64_t i = 0; ok && i < self.dim(); ++i) ok = i == d || source.sizes()[i] == self.sizes()[i];
  VT_CHECK_VALUE(ok, "index_add: source of shape ", shape_str(source_in.sizes()), " must match self of shape ",
                 shape_str(self_in.sizes()), " in every dimension but ", d, ", where it must have the index's length ",
                 index.numel());
  check_index_values("index_add", index, d, self.sizes()[d]);
  if (source.numel() > 0)
    scatter_add_loop("index_add", restrided(self, source.sizes(), d), source, index_along(index, source.sizes(), d),
                     self.strides()[d]);
  return out;
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
