#pragma once
// Errors: one exception type carrying the Python exception class it maps to.
// VT_CHECK*(cond, parts...) builds one message from its parts: say what was wrong and what was
// expected. See Note [Error messages].
#include <exception>
#include <sstream>
#include <string>

namespace vt {

enum class ErrorKind { Runtime, Value, Type, Index, NotImplemented };

class Error : public std::exception {
 public:
  Error(ErrorKind kind, std::string msg) : kind_(kind), msg_(std::move(msg)) {}
  const char* what() const noexcept override { return msg_.c_str(); }
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
  std::string msg_;
};

namespace detail {
template <class... Parts>
[[noreturn]] void throw_error(ErrorKind kind, const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(kind, os.str());
}
}  // namespace detail

}  // namespace vt

// Note [Error messages]: every check names the offending value and the expectation, e.g.
// "add: shapes [2, 3] and [4] cannot be broadcast together". The Python binding maps
// ErrorKind to RuntimeError / ValueError / TypeError / IndexError / NotImplementedError.
#define VT_CHECK_KIND(kind, cond, ...) \
  do { if (!(cond)) [[unlikely]] ::vt::detail::throw_error(kind, __VA_ARGS__); } while (0)
#define VT_CHECK(cond, ...) VT_CHECK_KIND(::vt::ErrorKind::Runtime, cond, __VA_ARGS__)
#define VT_CHECK_VALUE(cond, ...) VT_CHECK_KIND(::vt::ErrorKind::Value, cond, __VA_ARGS__)
#define VT_CHECK_TYPE(cond, ...) VT_CHECK_KIND(::vt::ErrorKind::Type, cond, __VA_ARGS__)
#define VT_CHECK_INDEX(cond, ...) VT_CHECK_KIND(::vt::ErrorKind::Index, cond, __VA_ARGS__)
#define VT_ERROR(...) ::vt::detail::throw_error(::vt::ErrorKind::Runtime, __VA_ARGS__)
