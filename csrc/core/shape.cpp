#include "core/shape.h"

#include <sstream>

#include "core/checked_math.h"

namespace vt {

// Overflow checks: see Note [Shape overflow] in shape.h.
int64_t numel_of(IntArrayRef sizes) {
  int64_t n = 1;
  bool overflow = false;
  for (int64_t s : sizes) {
    VT_CHECK(s >= 0, "Trying to create tensor with negative dimension ", s, ": ", shape_str(sizes),
             " (every size must be >= 0)");
    overflow |= mul_overflows(n, s, &n);
  }
  VT_CHECK(!overflow, "numel: integer multiplication overflow: the number of elements of shape ", shape_str(sizes),
           " does not fit in int64 (expected a product of sizes below 2^63)");
  return n;
}

DimVector contiguous_strides(IntArrayRef sizes) {
  DimVector st(sizes.size());
  int64_t acc = 1;
  bool overflow = false;  // only a stride that is stored must fit
  for (int64_t i = int64_t(sizes.size()) - 1; i >= 0; --i) {
    VT_CHECK(!overflow, "Stride calculation overflowed: the row-major strides of shape ", shape_str(sizes),
             " do not fit in int64");
    st[i] = acc;
    overflow = mul_overflows(acc, std::max<int64_t>(sizes[i], 1), &acc);
  }
  return st;
}

int64_t storage_nbytes_of(IntArrayRef sizes, IntArrayRef strides, int64_t offset, int64_t itemsize) {
  VT_CHECK(offset >= 0, "Tensor: invalid storage offset ", offset, " (expected a storage offset >= 0)");
  int64_t offset_bytes;
  VT_CHECK(!mul_overflows(offset, itemsize, &offset_bytes), "Tensor: storage offset ", offset, " times itemsize ",
           itemsize, " does not fit in int64");
  if (std::find(sizes.begin(), sizes.end(), 0) != sizes.end()) return 0;
  int64_t last = offset;  // the storage index of the view's last element
  bool overflow = false;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 1) continue;
    VT_CHECK(strides[i] >= 0, "negative strides are not supported: got sizes ", shape_str(sizes), " and strides ",
             shape_str(strides));
    int64_t span;
    overflow |= mul_overflows(sizes[i] - 1, strides[i], &span) || add_overflows(last, span, &last);
  }
  int64_t nbytes;
  overflow |= add_overflows(last, 1, &last) || mul_overflows(last, itemsize, &nbytes);
  VT_CHECK(!overflow, "Storage size calculation overflowed with sizes=", shape_str(sizes), " and strides=",
           shape_str(strides), " (storage offset ", offset, ", itemsize ", itemsize,
           "): the byte offset of the last element must fit in int64");
  return nbytes;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = std::max<int64_t>(ndim, 1);  // a 0-d tensor accepts dim 0 and -1, as in torch
  if (dim < -n || dim >= n)
    detail::throw_error(ErrorKind::Index, op, op[0] ? ": " : "", "dimension out of range (expected to be in range of [",
                        -n, ", ", n - 1, "], but got ", dim, ")");
  return dim < 0 ? dim + n : dim;
}

DimVector broadcast_shapes(IntArrayRef a, IntArrayRef b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  DimVector out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      detail::throw_error(ErrorKind::Value, op, op[0] ? ": " : "", "shapes ", shape_str(a), " and ", shape_str(b),
                          " cannot be broadcast together (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

ViewSpan view_span(IntArrayRef sizes, IntArrayRef strides, int64_t offset, int64_t itemsize) {
  int64_t numel = 1, last = offset, span, nbytes = 0;
  bool bad = offset < 0 || mul_overflows(offset, itemsize, &span);
  for (size_t i = 0; i < sizes.size(); ++i) {
    int64_t s = sizes[i];
    bad |= s < 0 || mul_overflows(numel, s, &numel);
    if (s > 1) bad |= strides[i] < 0 || mul_overflows(s - 1, strides[i], &span) || add_overflows(last, span, &last);
  }
  if (numel != 0) bad |= add_overflows(last, 1, &last) || mul_overflows(last, itemsize, &nbytes);
  if (bad) [[unlikely]] return {numel_of(sizes), storage_nbytes_of(sizes, strides, offset, itemsize)};  // they name it
  return {numel, nbytes};
}

std::string shape_str(IntArrayRef s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

bool is_contiguous_layout(IntArrayRef sizes, IntArrayRef strides) {
  for (int64_t size : sizes)
    if (size == 0) return true;  // no element to lay out: contiguous whatever the strides (torch's rule)
  int64_t expected = 1;
  bool overflow = false;  // no stride equals a product beyond int64 (a tensor with no element can have one)
  for (int64_t i = int64_t(sizes.size()) - 1; i >= 0; --i) {
    if (sizes[i] == 1) continue;
    if (overflow || strides[i] != expected) return false;
    overflow = mul_overflows(expected, sizes[i], &expected);
  }
  return true;
}

}  // namespace vt
