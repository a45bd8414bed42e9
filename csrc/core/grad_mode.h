#pragma once
// Thread-local grad mode (no_grad / enable_grad). It lives in core because the dispatcher
// reads it to decide whether the autograd kernel runs.

namespace vt {

struct GradMode {
  static bool is_enabled() { return enabled_; }
  static void set_enabled(bool e) { enabled_ = e; }

 private:
  static inline thread_local bool enabled_ = true;
};

struct AutoGradMode {
  explicit AutoGradMode(bool enabled) : prev_(GradMode::is_enabled()) { GradMode::set_enabled(enabled); }
  ~AutoGradMode() { GradMode::set_enabled(prev_); }
  bool prev_;
};
struct NoGradGuard : AutoGradMode { NoGradGuard() : AutoGradMode(false) {} };

}  // namespace vt
