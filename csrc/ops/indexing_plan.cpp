// Argument checks and geometry of the indexing ops, for every device (see indexing_plan.h).
#include "ops/indexing_plan.h"

#include "ops/cpu/loops.h"
#include "ops/elementwise_util.h"

namespace vt {
namespace {

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

}  // namespace

void check_index_dtype(const char* op, const Tensor& index) {
  VT_CHECK_TYPE(index.dtype() == DType::Int64 || index.dtype() == DType::Int32, op,
                ": expected the index to be an int64 or int32 tensor, got ", index.dtype());
}

void throw_index_out_of_bounds(const char* op, int64_t value, int64_t dim, int64_t size) {
  detail::throw_error(ErrorKind::Index, op, ": index ", value, " is out of bounds for dimension ", dim, " with size ", size);
}

template <class I> std::optional<int64_t> first_bad_index_as(const Tensor& index, int64_t size) {
  std::optional<int64_t> bad;
  const Tensor* op[1] = {&index};
  cpu::StridedIter it(op, 1, index.sizes());
  it.run_range(0, it.numel, [&](char** p, const int64_t* st, int64_t n) {
    if (bad) return;
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = *reinterpret_cast<const I*>(p[0] + i * st[0]);
      if (v < 0 || v >= size) { bad = v; return; }
    }
  });
  return bad;
}

std::optional<int64_t> first_bad_index(const Tensor& index, int64_t size) {
  VT_CHECK(index.device().is_cpu(), "first_bad_index: expected a CPU index, got ", index.device());
  check_index_dtype("index", index);
  return index.dtype() == DType::Int64 ? first_bad_index_as<int64_t>(index, size) : first_bad_index_as<int32_t>(index, size);
}

void check_index_values(const char* op, const Tensor& index, int64_t dim, int64_t size) {
  if (auto bad = first_bad_index(index, size)) throw_index_out_of_bounds(op, *bad, dim, size);
}

IndexLoop plan_gather(const Tensor& self_in, int64_t dim, const Tensor& index_in) {
  check_same_device("gather", {&self_in, &index_in});
  check_index_dtype("gather", index_in);
  VT_CHECK_VALUE(index_in.dim() == self_in.dim() || index_in.numel() == 0, "gather: index ", shape_str(index_in.sizes()),
                 " must have as many dimensions as self ", shape_str(self_in.sizes()));
  IndexLoop L;
  L.dim = wrap_dim(dim, self_in.dim(), "gather");
  L.result = empty_tensor(DimVector(index_in.sizes()), self_in.dtype(), self_in.device());
  if (L.result.numel() == 0) return L;
  Tensor self = as_1d(self_in), index = as_1d(index_in);
  int64_t d = L.dim;
  for (int64_t i = 0; i < self.dim(); ++i)
    VT_CHECK_VALUE(i == d || index.sizes()[i] <= self.sizes()[i], "gather: index of shape ", shape_str(index.sizes()),
                   " must be no larger than self of shape ", shape_str(self.sizes()), " apart from dimension ", d,
                   " (dimension ", i, ": ", index.sizes()[i], " vs ", self.sizes()[i], ")");
  L.index = index;
  L.dim_size = self.sizes()[d];
  L.dim_stride = self.strides()[d];
  L.indexed = restrided(self, index.sizes(), d);
  L.plain = as_1d(L.result);
  L.index_view = index;
  return L;
}

IndexLoop plan_index_select(const Tensor& self_in, int64_t dim, const Tensor& index) {
  check_same_device("index_select", {&self_in, &index});
  check_index_dtype("index_select", index);
  VT_CHECK_VALUE(index.dim() <= 1, "index_select: index must be 0-D or 1-D, got shape ", shape_str(index.sizes()));
  IndexLoop L;
  L.dim = wrap_dim(dim, self_in.dim(), "index_select");
  Tensor self = as_1d(self_in);
  int64_t d = L.dim;
  L.index = index;
  L.dim_size = self.sizes()[d];
  L.dim_stride = self.strides()[d];
  DimVector shape(self.sizes());
  shape[d] = index.numel();
  Tensor out = empty_tensor(shape, self.dtype(), self.device());
  // A 0-d self picks one element: the result is 0-d too, as in torch.
  L.result = self_in.dim() == 0 && index.numel() == 1 ? make_view(out, DimVector{}, DimVector{}, 0) : out;
  if (out.numel() == 0) return L;
  L.indexed = restrided(self, shape, d);
  L.plain = out;
  L.index_view = index_along(index, shape, d);
  return L;
}

IndexLoop plan_scatter_add(const Tensor& self_in, int64_t dim, const Tensor& index_in, const Tensor& src_in) {
  check_same_device("scatter_add", {&self_in, &index_in, &src_in});
  check_index_dtype("scatter_add", index_in);
  VT_CHECK_TYPE(self_in.dtype() == src_in.dtype(), "scatter_add: expected self and src to have the same dtype, got ",
                self_in.dtype(), " and ", src_in.dtype());
  IndexLoop L;
  L.dim = wrap_dim(dim, self_in.dim(), "scatter_add");
  L.result = ops::clone(self_in);
  if (index_in.numel() == 0) return L;
  VT_CHECK_VALUE(index_in.dim() == self_in.dim() && src_in.dim() == self_in.dim(), "scatter_add: self ",
                 shape_str(self_in.sizes()), ", index ", shape_str(index_in.sizes()), " and src ", shape_str(src_in.sizes()),
                 " must have the same number of dimensions");
  Tensor self = as_1d(L.result), index = as_1d(index_in), src = as_1d(src_in);
  int64_t d = L.dim;
  for (int64_t i = 0; i < self.dim(); ++i)
    VT_CHECK_VALUE(index.sizes()[i] <= src.sizes()[i] && (i == d || index.sizes()[i] <= self.sizes()[i]),
                   "scatter_add: index of shape ", shape_str(index.sizes()), " must be no larger than src of shape ",
                   shape_str(src.sizes()), ", and no larger than self of shape ", shape_str(self.sizes()),
                   " apart from dimension ", d, " (mismatch at dimension ", i, ")");
  L.index = index;
  L.dim_size = self.sizes()[d];
  L.dim_stride = self.strides()[d];
  L.indexed = restrided(self, index.sizes(), d);
  L.plain = make_view(src, index.sizes(), src.strides(), src->offset());
  L.index_view = index;
  return L;
}

IndexLoop plan_index_add(const Tensor& self_in, int64_t dim, const Tensor& index, const Tensor& source_in) {
  check_same_device("index_add", {&self_in, &index, &source_in});
  check_index_dtype("index_add", index);
  VT_CHECK_VALUE(index.dim() <= 1, "index_add: index must be 0-D or 1-D, got shape ", shape_str(index.sizes()));
  VT_CHECK_TYPE(self_in.dtype() == source_in.dtype(), "index_add: expected self and source to have the same dtype, got ",
                self_in.dtype(), " and ", source_in.dtype());
  IndexLoop L;
  L.dim = wrap_dim(dim, self_in.dim(), "index_add");
  L.result = ops::clone(self_in);
  Tensor self = as_1d(L.result), source = as_1d(source_in);
  int64_t d = L.dim;
  bool ok = source.dim() == self.dim() && source.sizes()[d] == index.numel();
  for (int64_t i = 0; ok && i < self.dim(); ++i) ok = i == d || source.sizes()[i] == self.sizes()[i];
  VT_CHECK_VALUE(ok, "index_add: source of shape ", shape_str(source_in.sizes()), " must match self of shape ",
                 shape_str(self_in.sizes()), " in every dimension but ", d, ", where it must have the index's length ",
                 index.numel());
  L.index = index;
  L.dim_size = self.sizes()[d];
  L.dim_stride = self.strides()[d];
  if (source.numel() == 0) return L;
  L.indexed = restrided(self, source.sizes(), d);
  L.plain = source;
  L.index_view = index_along(index, source.sizes(), d);
  return L;
}

}  // namespace vt
