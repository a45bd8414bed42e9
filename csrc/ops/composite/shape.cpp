// Composite shape ops: written in terms of views and copies, so autograd flows through those.
#include "ops/view/view_ops.h"

namespace vt::composite {
namespace {

Tensor contiguous(const Tensor& self) { return self.is_contiguous() ? self : ops::clone(self); }

Tensor reshape(const Tensor& self, const IntList& shape) {
  DimVector s = views::infer_size(shape, self.numel(), "reshape");
  if (views::compute_view_strides(self.sizes(), self.strides(), s)) return ops::view(self, s.vec());
  return ops::view(ops::clone(self), s.vec());
}

Tensor transpose(const Tensor& self, int64_t d0, int64_t d1) {
  int64_t n = self.dim();
  if (n == 0) return ops::view(self, {});
  d0 = wrap_dim(d0, n, "transpose");
  d1 = wrap_dim(d1, n, "transpose");
  IntList perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  std::swap(perm[d0], perm[d1]);
  return ops::permute(self, perm);
}

Tensor narrow(const Tensor& self, int64_t dim, int64_t start, int64_t length) {
  VT_CHECK_VALUE(self.dim() > 0, "narrow: cannot narrow a 0-d tensor");
  int64_t d = wrap_dim(dim, self.dim(), "narrow");
  int64_t size = self.sizes()[d];
  VT_CHECK_INDEX(start >= -size && start <= size, "narrow: start out of range (expected to be in range of [", -size,
                 ", ", size, "], but got ", start, ")");
  if (start < 0) start += size;
  // length <= size - start: start + length could overflow
  VT_CHECK_INDEX(length >= 0 && length <= size - start, "narrow: start (", start, ") + length (", length,
                 ") exceeds dimension size (", size, ")");
  return ops::slice(self, d, start, start + length, 1);
}

Tensor flatten(const Tensor& self, int64_t start_dim, int64_t end_dim) {
  int64_t s = wrap_dim(start_dim, self.dim(), "flatten"), e = wrap_dim(end_dim, self.dim(), "flatten");
  if (self.dim() == 0) return ops::reshape(self, {1});
  VT_CHECK_VALUE(s <= e, "flatten: start_dim (", start_dim, ") cannot come after end_dim (", end_dim, ")");
  IntList shape;
  for (int64_t i = 0; i < s; ++i) shape.push_back(self.sizes()[i]);
  // A tensor with no element may have dims whose product overflows (Note [Shape overflow]).
  shape.push_back(numel_of(self.sizes().subspan(size_t(s), size_t(e - s + 1))));
  for (int64_t i = e + 1; i < self.dim(); ++i) shape.push_back(self.sizes()[i]);
  return ops::reshape(self, shape);
}

Tensor unflatten(const Tensor& self, int64_t dim, const IntList& sizes) {
  int64_t d = wrap_dim(dim, self.dim(), "unflatten");
  DimVector inner = views::infer_size(sizes, self.sizes()[d], "unflatten");
  IntList shape;
  for (int64_t i = 0; i < d; ++i) shape.push_back(self.sizes()[i]);
  for (int64_t s : inner) shape.push_back(s);
  for (int64_t i = d + 1; i < self.dim(); ++i) shape.push_back(self.sizes()[i]);
  return ops::view(self, shape);
}

Tensor sum_to_size(const Tensor& self, const IntList& size) {
  if (std::equal(size.begin(), size.end(), self.sizes().begin(), self.sizes().end())) return self;
  int64_t lead = self.dim() - int64_t(size.size());
  VT_CHECK_VALUE(lead >= 0, "sum_to_size: size ", shape_str(size), " is not expandable to ", shape_str(self.sizes()));
  IntList dims;
  for (int64_t i = 0; i < self.dim(); ++i) {
    if (i < lead) { dims.push_back(i); continue; }
    int64_t want = size[i - lead];
    VT_CHECK_VALUE(want == self.sizes()[i] || want == 1, "sum_to_size: size ", shape_str(size),
                   " is not expandable to ", shape_str(self.sizes()));
    if (want == 1 && self.sizes()[i] != 1) dims.push_back(i);
  }
  Tensor r = dims.empty() ? self : ops::sum(self, dims, true, std::nullopt);
  return ops::view(r, size);
}

Tensor stack(const TensorList& tensors, int64_t dim) {
  VT_CHECK_VALUE(!tensors.empty(), "stack: expects a non-empty list of tensors");
  int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  TensorList parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    VT_CHECK_VALUE(DimVector(tensors[i].sizes()) == DimVector(tensors[0].sizes()), "stack: expects each tensor to be "
                   "equal size, but got ", shape_str(tensors[0].sizes()), " at entry 0 and ", shape_str(tensors[i].sizes()),
                   " at entry ", i);
    parts.push_back(ops::unsqueeze(tensors[i], d));
  }
  return ops::cat(parts, d);
}

Tensor linear(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias) {
  VT_CHECK_VALUE(weight.dim() == 2, "linear: weight must be 2-D (out_features, in_features), got shape ",
                 shape_str(weight.sizes()));
  Tensor out = ops::matmul(input, ops::transpose(weight, 0, 1));
  return bias ? ops::add(out, *bias, Scalar(1)) : out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  VT_CHECK_VALUE(a.dim() == 3 && b.dim() == 3, "bmm: expected 3-D tensors, got shapes ", shape_str(a.sizes()), " and ",
                 shape_str(b.sizes()));
  VT_CHECK_VALUE(a.sizes()[0] == b.sizes()[0], "bmm: batch sizes differ: ", a.sizes()[0], " vs ", b.sizes()[0]);
  return ops::matmul(a, b);
}

}  // namespace

VT_REGISTER_KERNEL("vt::contiguous", Composite, contiguous);
VT_REGISTER_KERNEL("vt::reshape", Composite, reshape);
VT_REGISTER_KERNEL("vt::transpose", Composite, transpose);
VT_REGISTER_KERNEL("vt::narrow", Composite, narrow);
VT_REGISTER_KERNEL("vt::flatten", Composite, flatten);
VT_REGISTER_KERNEL("vt::unflatten", Composite, unflatten);
VT_REGISTER_KERNEL("vt::sum_to_size", Composite, sum_to_size);
VT_REGISTER_KERNEL("vt::stack", Composite, stack);
VT_REGISTER_KERNEL("vt::linear", Composite, linear);
VT_REGISTER_KERNEL("vt::bmm", Composite, bmm);

}  // namespace vt::composite
