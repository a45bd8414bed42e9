#include "ops/view/view_ops.h"

#include "core/checked_math.h"

namespace vt::views {

namespace {
// The storage offset of element `index` along `dim` of self (slice, select); an index within the
// dim keeps it inside the storage, so this overflows only for a tensor with no element.
int64_t element_offset(const Tensor& self, int64_t dim, int64_t index, const char* op) {
  return checked_add(self->offset(), checked_mul(index, self.strides()[dim], op), op);
}
}  // namespace

DimVector infer_size(IntArrayRef shape, int64_t numel, const char* op) {
  DimVector out(shape);
  int64_t known = 1, infer = -1;
  bool overflow = false;  // a product beyond int64 matches no input (Note [Shape overflow])
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      VT_CHECK_VALUE(infer < 0, op, ": only one dimension can be inferred (-1) in shape ", shape_str(shape));
      infer = int64_t(i);
    } else {
      VT_CHECK_VALUE(out[i] >= 0, op, ": invalid shape dimension ", out[i], " in ", shape_str(shape));
      overflow |= mul_overflows(known, out[i], &known);
    }
  }
  VT_CHECK_VALUE(!overflow, op, ": shape ", shape_str(shape), " is invalid for input of size ", numel,
                 " (the product of its sizes does not fit in int64)");
  if (infer >= 0) {
    VT_CHECK_VALUE(known != 0 && numel % known == 0, op, ": shape ", shape_str(shape), " is invalid for input of size ", numel);
    out[infer] = numel / known;
  }
  VT_CHECK_VALUE(numel_of(out) == numel, op, ": shape ", shape_str(shape), " is invalid for input of size ", numel);
  return out;
}

// Walks the old dims in contiguous chunks; each chunk of new dims must cover exactly one chunk.
std::optional<DimVector> compute_view_strides(IntArrayRef old_sizes, IntArrayRef old_strides, IntArrayRef sizes) {
  DimVector strides(sizes.size());
  if (old_sizes.empty()) { for (auto& s : strides) s = 1; return strides; }
  int64_t numel = numel_of(old_sizes);
  if (numel == 0) return contiguous_strides(sizes);
  int64_t view_d = int64_t(sizes.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  // Partial products stay below numel; only chunk spans (numel * stride) may overflow, and a
  // stride that cannot be represented means no view exists.
  int64_t span;
  for (int64_t d = int64_t(old_sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_sizes[d];
    bool chunk_ends = d == 0 || (old_sizes[d - 1] != 1 && (mul_overflows(tensor_numel, chunk_base_stride, &span) ||
                                                          old_strides[d - 1] != span));
    if (chunk_ends) {
      while (view_d >= 0 && (view_numel < tensor_numel || sizes[view_d] == 1)) {
        if (mul_overflows(view_numel, chunk_base_stride, &strides[view_d])) return std::nullopt;
        view_numel *= sizes[view_d];
        view_d--;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) { chunk_base_stride = old_strides[d - 1]; tensor_numel = 1; view_numel = 1; }
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

Tensor view(const Tensor& self, const IntList& size) {
  DimVector shape = infer_size(size, self.numel(), "view");
  auto st = compute_view_strides(self.sizes(), self.strides(), shape);
  VT_CHECK(st, "view: size ", shape_str(shape), " is not compatible with input tensor's size ", shape_str(self.sizes()),
           " and stride ", shape_str(self.strides()), " (at least one dimension spans across two contiguous subspaces); "
           "use .reshape(...) instead");
  return make_view(self, shape, *st, self->offset());
}

Tensor permute(const Tensor& self, const IntList& dims) {
  int64_t n = self.dim();
  VT_CHECK_VALUE(int64_t(dims.size()) == n, "permute: number of dims don't match: got ", dims.size(),
                 " dims for a tensor of ", n, " dims");
  DimVector sizes(n), strides(n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = wrap_dim(dims[i], n, "permute");
    VT_CHECK_VALUE(!seen[d], "permute: repeated dim ", dims[i], " in ", shape_str(dims));
    seen[d] = true;
    sizes[i] = self.sizes()[d];
    strides[i] = self.strides()[d];
  }
  return make_view(self, sizes, strides, self->offset());
}

Tensor slice(const Tensor& self, int64_t dim, std::optional<int64_t> start_o, std::optional<int64_t> end_o, int64_t step) {
  VT_CHECK_VALUE(self.dim() > 0, "slice: cannot slice a 0-d tensor");
  dim = wrap_dim(dim, self.dim(), "slice");
  VT_CHECK_VALUE(step > 0, "slice: step must be positive, got ", step);
  int64_t size = self.sizes()[dim];
  int64_t start = start_o.value_or(0), end = end_o.value_or(size);
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  DimVector sizes(self.sizes()), strides(self.strides());
  sizes[dim] = end == start ? 0 : (end - start - 1) / step + 1;  // ceil without overflow for a huge step
  // Overflows only where the stride is never used (at most one element, or none in the tensor):
  // keep the old one.
  if (mul_overflows(strides[dim], step, &strides[dim])) strides[dim] = self.strides()[dim];
  return make_view(self, sizes, strides, element_offset(self, dim, start, "slice"));
}

Tensor select(const Tensor& self, int64_t dim, int64_t index) {
  VT_CHECK_INDEX(self.dim() > 0, "select: cannot index a 0-d tensor");
  dim = wrap_dim(dim, self.dim(), "select");
  int64_t size = self.sizes()[dim];
  VT_CHECK_INDEX(index >= -size && index < size, "index ", index, " is out of bounds for dimension ", dim,
                 " with size ", size);
  if (index < 0) index += size;
  DimVector sizes(self.sizes()), strides(self.strides());
  sizes.erase(dim);
  strides.erase(dim);
  return make_view(self, sizes, strides, element_offset(self, dim, index, "select"));
}

Tensor expand(const Tensor& self, const IntList& size) {
  int64_t n = int64_t(size.size()), nd = self.dim();
  VT_CHECK_VALUE(n >= nd, "expand: the number of sizes provided (", n, ") must be greater or equal to the number of "
                 "dimensions in the tensor (", nd, ")");
  DimVector sizes(n), strides(n);
  for (int64_t i = n - 1; i >= 0; --i) {
    int64_t sd = i - (n - nd);
    int64_t want = size[i];
    if (sd < 0) {
      VT_CHECK_VALUE(want >= 0, "expand: -1 is not allowed in a leading, non-existing dimension ", i);
      sizes[i] = want; strides[i] = 0;
      continue;
    }
    int64_t have = self.sizes()[sd];
    if (want == -1) want = have;
    VT_CHECK_VALUE(have == want || have == 1, "expand: the expanded size of the tensor (", want,
                   ") must match the existing size (", have, ") at non-singleton dimension ", i, ". Target sizes: ",
                   shape_str(size), ". Tensor sizes: ", shape_str(self.sizes()));
    sizes[i] = want;
    strides[i] = have == want ? self.strides()[sd] : 0;
  }
  return make_view(self, sizes, strides, self->offset());
}

Tensor squeeze(const Tensor& self, const std::optional<IntList>& dim) {
  std::vector<bool> drop(self.dim(), false);
  if (dim) {
    for (int64_t d : *dim) { int64_t w = wrap_dim(d, self.dim(), "squeeze"); if (self.dim() && self.sizes()[w] == 1) drop[w] = true; }
  } else {
    for (int64_t d = 0; d < self.dim(); ++d) drop[d] = self.sizes()[d] == 1;
  }
  DimVector sizes, strides;
  for (int64_t d = 0; d < self.dim(); ++d)
    if (!drop[d]) { sizes.push_back(self.sizes()[d]); strides.push_back(self.strides()[d]); }
  return make_view(self, sizes, strides, self->offset());
}

Tensor unsqueeze(const Tensor& self, int64_t dim) {
  dim = wrap_dim(dim, self.dim() + 1, "unsqueeze");
  DimVector sizes(self.sizes()), strides(self.strides());
  int64_t st = 1;
  // A size-1 dim's stride is never used: 1 where size * stride overflows (a tensor with no element).
  if (dim < self.dim() && mul_overflows(self.sizes()[dim], self.strides()[dim], &st)) st = 1;
  sizes.insert(dim, 1);
  strides.insert(dim, st);
  return make_view(self, sizes, strides, self->offset());
}

Tensor as_strided(const Tensor& self, const IntList& size, const IntList& stride, std::optional<int64_t> storage_offset) {
  VT_CHECK_VALUE(size.size() == stride.size(), "as_strided: mismatch in length of strides and shape (", size.size(),
                 " vs ", stride.size(), ")");
  int64_t off = storage_offset.value_or(self->offset());
  for (size_t i = 0; i < size.size(); ++i)
    VT_CHECK_VALUE(size[i] >= 0 && stride[i] >= 0, "as_strided: negative size or stride in ", shape_str(size), " / ",
                   shape_str(stride), " (sizes and strides must be >= 0)");
  // The view's numel, overflow and storage bounds are checked where it is built (Note [Shape overflow]).
  return make_view(self, size, stride, off);
}

// Views only re-point geometry, so one function serves every device.
VT_REGISTER_KERNEL("vt::view", CPU, view);
VT_REGISTER_KERNEL("vt::permute", CPU, permute);
VT_REGISTER_KERNEL("vt::slice", CPU, slice);
VT_REGISTER_KERNEL("vt::select", CPU, select);
VT_REGISTER_KERNEL("vt::expand", CPU, expand);
VT_REGISTER_KERNEL("vt::squeeze", CPU, squeeze);
VT_REGISTER_KERNEL("vt::unsqueeze", CPU, unsqueeze);
VT_REGISTER_KERNEL("vt::as_strided", CPU, as_strided);

VT_REGISTER_KERNEL("vt::view", CUDA, view);
VT_REGISTER_KERNEL("vt::permute", CUDA, permute);
VT_REGISTER_KERNEL("vt::slice", CUDA, slice);
VT_REGISTER_KERNEL("vt::select", CUDA, select);
VT_REGISTER_KERNEL("vt::expand", CUDA, expand);
VT_REGISTER_KERNEL("vt::squeeze", CUDA, squeeze);
VT_REGISTER_KERNEL("vt::unsqueeze", CUDA, unsqueeze);
VT_REGISTER_KERNEL("vt::as_strided", CUDA, as_strided);

}  // namespace vt::views
