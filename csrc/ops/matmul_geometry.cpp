#include "ops/matmul_geometry.h"

#include <algorithm>
#include <climits>

#include "core/shape.h"
#include "ops/elementwise_util.h"

namespace vt::matmul {

GemmLayout gemm_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
  // The stride of a size-1 dim never matters, so it does not constrain the layout.
  if (cols == 1 || sc == 1) {  // row-major as stored
    int64_t ld = rows == 1 ? std::max<int64_t>(cols, 1) : sr;
    if (ld >= std::max<int64_t>(cols, 1) && ld <= INT_MAX) return {true, false, ld};
  }
  if (rows == 1 || sr == 1) {  // the stored matrix is the transpose, row-major
    int64_t ld = cols == 1 ? std::max<int64_t>(rows, 1) : sc;
    if (ld >= std::max<int64_t>(rows, 1) && ld <= INT_MAX) return {true, true, ld};
  }
  return {};
}

Operand make_operand(const Tensor& t, bool is_left, IntArrayRef out_batch) {
  Operand o;
  o.data = static_cast<const char*>(t.data_ptr());
  int64_t nd = t.dim();
  if (nd == 1) {
    int64_t len = t.sizes()[0], s = t.strides()[0];
    if (is_left) { o.rows = 1; o.cols = len; o.sr = len * s; o.sc = s; }
    else { o.rows = len; o.cols = 1; o.sr = s; o.sc = 1; }
  } else {
    o.rows = t.sizes()[nd - 2]; o.cols = t.sizes()[nd - 1];
    o.sr = t.strides()[nd - 2]; o.sc = t.strides()[nd - 1];
  }
  int64_t tb = std::max<int64_t>(nd - 2, 0), ob = int64_t(out_batch.size());
  o.batch_strides = DimVector(size_t(ob), 0);
  for (int64_t d = 0; d < tb; ++d)
    if (t.sizes()[d] != 1) o.batch_strides[ob - tb + d] = t.strides()[d];
  o.layout = gemm_layout(o.rows, o.cols, o.sr, o.sc);
  return o;
}

Problem plan(const Tensor& a, const Tensor& b) {
  check_same_device("matmul", {&a, &b});
  VT_CHECK_VALUE(a.dim() >= 1 && b.dim() >= 1, "matmul: both arguments need to be at least 1-D, got shapes ",
                 shape_str(a.sizes()), " and ", shape_str(b.sizes()));
  VT_CHECK_TYPE(a.dtype() == b.dtype(), "matmul: expected both operands to have the same dtype, got ", a.dtype(), " and ",
                b.dtype());
  VT_CHECK_TYPE(a.dtype() != DType::Bool, "matmul: not supported for bool tensors");
  Problem p;
  p.k = a.sizes().back();
  int64_t kb = b.dim() == 1 ? b.sizes()[0] : b.sizes()[b.dim() - 2];
  VT_CHECK_VALUE(p.k == kb, "matmul: shapes ", shape_str(a.sizes()), " and ", shape_str(b.sizes()),
                 " cannot be multiplied (", p.k, " columns vs ", kb, " rows)");
  IntArrayRef abatch = a.sizes().first(size_t(std::max<int64_t>(a.dim() - 2, 0)));
  IntArrayRef bbatch = b.sizes().first(size_t(std::max<int64_t>(b.dim() - 2, 0)));
  p.batch = broadcast_shapes(abatch, bbatch, "matmul");
  p.m = a.dim() == 1 ? 1 : a.sizes()[a.dim() - 2];
  p.n = b.dim() == 1 ? 1 : b.sizes().back();
  p.out_shape = p.batch;
  if (a.dim() > 1) p.out_shape.push_back(p.m);
  if (b.dim() > 1) p.out_shape.push_back(p.n);
  return p;
}

std::vector<int64_t> batch_offsets(IntArrayRef batch, const DimVector& strides) {
  int64_t nb = numel_of(batch);
  std::vector<int64_t> off(size_t(nb), 0);
  DimVector idx(batch.size(), 0);
  int64_t cur = 0;
  for (int64_t i = 0; i < nb; ++i) {
    off[size_t(i)] = cur;
    for (int64_t d = int64_t(batch.size()) - 1; d >= 0; --d) {
      cur += strides[d];
      if (++idx[d] < batch[d]) break;
      cur -= strides[d] * batch[d];
      idx[d] = 0;
    }
  }
  return off;
}

int64_t folded_row_stride(const Operand& a, IntArrayRef batch) {
  int64_t stride = -1, span = 1;  // span: rows covered so far, innermost first
  auto visit = [&](int64_t size, int64_t st) {
    if (size == 1) return true;
    if (stride < 0) { stride = st; span = size; return true; }
    if (st != stride * span) return false;
    span *= size;
    return true;
  };
  if (!visit(a.rows, a.sr)) return -1;
  for (int64_t d = int64_t(batch.size()) - 1; d >= 0; --d)
    if (!visit(batch[d], a.batch_strides[d])) return -1;
  return stride < 0 ? a.cols : stride;
}

int64_t uniform_stride(const std::vector<int64_t>& offsets) {
  if (offsets.size() < 2) return 0;
  int64_t s = offsets[1] - offsets[0];
  for (size_t i = 1; i < offsets.size(); ++i)
    if (offsets[i] != int64_t(i) * s) return -1;
  return s;
}

bool batch_shared(const Operand& o) {
  return std::all_of(o.batch_strides.begin(), o.batch_strides.end(), [](int64_t s) { return s == 0; });
}

}  // namespace vt::matmul
