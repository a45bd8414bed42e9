#pragma once
// A Python number crossing into C++: kept as int, float or bool so type promotion can see
// which kind it was.
#include <cstdint>

#include "core/dtype.h"

namespace vt {

class Scalar {
 public:
  enum class Kind : int8_t { Int, Float, Bool };
  Scalar() : kind_(Kind::Int), i_(0) {}
  Scalar(double v) : kind_(Kind::Float), d_(v) {}
  Scalar(float v) : kind_(Kind::Float), d_(v) {}
  Scalar(int64_t v) : kind_(Kind::Int), i_(v) {}
  Scalar(int v) : kind_(Kind::Int), i_(v) {}
  Scalar(bool v) : kind_(Kind::Bool), i_(v) {}

  Kind kind() const { return kind_; }
  bool is_floating() const { return kind_ == Kind::Float; }
  bool is_integral() const { return kind_ == Kind::Int; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  double to_double() const { return kind_ == Kind::Float ? d_ : double(i_); }
  int64_t to_int() const { return kind_ == Kind::Float ? int64_t(d_) : i_; }
  template <class T> T to() const {
    if constexpr (std::is_same_v<T, bool>) return kind_ == Kind::Float ? d_ != 0 : i_ != 0;
    else if constexpr (std::is_integral_v<T>) return T(to_int());
    else return T(to_double());
  }
  // The dtype a tensor made from this scalar gets by default (Python floats: Note [Default dtype]).
  DType default_dtype() const {
    return kind_ == Kind::Float ? default_float_dtype() : kind_ == Kind::Int ? DType::Int64 : DType::Bool;
  }

 private:
  Kind kind_;
  union { double d_; int64_t i_; };
};

}  // namespace vt
