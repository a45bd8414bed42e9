#pragma once
// A refcounted pointer whose count lives in the object: one allocation per tensor, and a
// tensor handle is one pointer wide.
#include <atomic>
#include <cstdint>
#include <utility>

namespace vt {

class RefCounted {
 public:
  RefCounted() = default;
  RefCounted(const RefCounted&) = delete;
  RefCounted& operator=(const RefCounted&) = delete;
  virtual ~RefCounted() = default;
  void incref() const { refcount_.fetch_add(1, std::memory_order_relaxed); }
  bool decref() const { return refcount_.fetch_sub(1, std::memory_order_acq_rel) == 1; }
  int64_t use_count() const { return refcount_.load(std::memory_order_relaxed); }

 private:
  mutable std::atomic<int64_t> refcount_{0};
};

template <class T>
class IntrusivePtr {
 public:
  IntrusivePtr() = default;
  explicit IntrusivePtr(T* p) : p_(p) { if (p_) p_->incref(); }
  IntrusivePtr(const IntrusivePtr& o) : p_(o.p_) { if (p_) p_->incref(); }
  IntrusivePtr(IntrusivePtr&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  ~IntrusivePtr() { reset(); }
  IntrusivePtr& operator=(const IntrusivePtr& o) { IntrusivePtr(o).swap(*this); return *this; }
  IntrusivePtr& operator=(IntrusivePtr&& o) noexcept { IntrusivePtr(std::move(o)).swap(*this); return *this; }
  void reset() { if (p_ && p_->decref()) delete p_; p_ = nullptr; }
  void swap(IntrusivePtr& o) noexcept { std::swap(p_, o.p_); }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  bool operator==(const IntrusivePtr& o) const { return p_ == o.p_; }

  template <class... Args>
  static IntrusivePtr make(Args&&... args) { return IntrusivePtr(new T(std::forward<Args>(args)...)); }

 private:
  T* p_ = nullptr;
};

}  // namespace vt
