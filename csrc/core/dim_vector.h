#pragma once
// Sizes and strides: inline storage for up to kInline dims (no heap allocation per tensor in
// the common case), heap beyond that.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

namespace vt {

using IntArrayRef = std::span<const int64_t>;

class DimVector {
 public:
  static constexpr size_t kInline = 6;
  DimVector() = default;
  explicit DimVector(size_t n, int64_t v = 0) { resize(n, v); }
  DimVector(IntArrayRef r) { assign(r.begin(), r.end()); }
  DimVector(std::initializer_list<int64_t> l) { assign(l.begin(), l.end()); }
  DimVector(const std::vector<int64_t>& v) { assign(v.begin(), v.end()); }
  DimVector(const DimVector& o) { assign(o.begin(), o.end()); }
  DimVector& operator=(const DimVector& o) { if (this != &o) assign(o.begin(), o.end()); return *this; }
  DimVector(DimVector&& o) noexcept { *this = std::move(o); }
  DimVector& operator=(DimVector&& o) noexcept {
    if (this == &o) return *this;
    if (o.heap_.empty()) { assign(o.begin(), o.end()); }
    else { heap_ = std::move(o.heap_); size_ = o.size_; o.size_ = 0; }
    return *this;
  }

  template <class It> void assign(It b, It e) {
    size_t n = size_t(std::distance(b, e));
    if (n > kInline) { heap_.assign(b, e); } else { heap_.clear(); std::copy(b, e, inline_); }
    size_ = n;
  }
  void resize(size_t n, int64_t v = 0) {
    DimVector old = *this;
    std::vector<int64_t> tmp(old.begin(), old.end());
    tmp.resize(n, v);
    assign(tmp.begin(), tmp.end());
  }
  void push_back(int64_t v) { resize(size_ + 1, v); }
  void insert(size_t pos, int64_t v) {
    std::vector<int64_t> tmp(begin(), end());
    tmp.insert(tmp.begin() + pos, v);
    assign(tmp.begin(), tmp.end());
  }
  void erase(size_t pos) {
    std::vector<int64_t> tmp(begin(), end());
    tmp.erase(tmp.begin() + pos);
    assign(tmp.begin(), tmp.end());
  }

  int64_t* data() { return heap_.empty() ? inline_ : heap_.data(); }
  const int64_t* data() const { return heap_.empty() ? inline_ : heap_.data(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t& operator[](size_t i) { return data()[i]; }
  int64_t operator[](size_t i) const { return data()[i]; }
  int64_t* begin() { return data(); }
  int64_t* end() { return data() + size_; }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + size_; }
  int64_t back() const { return data()[size_ - 1]; }
  operator IntArrayRef() const { return IntArrayRef(data(), size_); }
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  bool operator==(const DimVector& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }

 private:
  int64_t inline_[kInline] = {};
  std::vector<int64_t> heap_;
  size_t size_ = 0;
};

}  // namespace vt
