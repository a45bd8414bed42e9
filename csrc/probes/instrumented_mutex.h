#pragma once
// A named mutex that records /proc/lock_stat-style statistics when probes.locks=on.
// Off, lock() is one relaxed load plus the plain mutex; see Note [Lock statistics].
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "policy/catalogue.h"

namespace vt::probes {

struct LockStats {
  std::string name;
  uint64_t acquisitions = 0, contentions = 0;
  uint64_t wait_total_ns = 0, wait_max_ns = 0, hold_total_ns = 0, hold_max_ns = 0;
};

class InstrumentedMutex {
 public:
  // An ephemeral mutex (one per graph task, say) is not listed while alive; its statistics are
  // folded into its name's totals when it is destroyed, so creating one takes no global lock.
  explicit InstrumentedMutex(std::string name, bool ephemeral = false);
  ~InstrumentedMutex();
  InstrumentedMutex(const InstrumentedMutex&) = delete;
  InstrumentedMutex& operator=(const InstrumentedMutex&) = delete;

  void lock() {
#if VT_PROBES
    if (policy::probes_locks.get() == policy::ProbesLocks::on) [[unlikely]] { lock_instrumented(); return; }
#endif
    m_.lock();
    hold_start_ns_ = 0;
  }
  void unlock() {
#if VT_PROBES
    if (hold_start_ns_) [[unlikely]] { unlock_instrumented(); return; }
#endif
    m_.unlock();
  }
  bool try_lock() { bool ok = m_.try_lock(); if (ok) hold_start_ns_ = 0; return ok; }

  const std::string& name() const { return name_; }
  LockStats stats() const;
  void reset();

 private:
  void lock_instrumented();
  void unlock_instrumented();

  std::mutex m_;
  std::string name_;
  bool ephemeral_;
  uint64_t hold_start_ns_ = 0;  // written by the holder only
  std::atomic<uint64_t> acq_{0}, cont_{0}, wait_total_{0}, wait_max_{0}, hold_total_{0}, hold_max_{0};
};

// Snapshot of every live instrumented mutex (named mutexes with the same name are summed).
std::vector<LockStats> lock_stats();
void reset_lock_stats();

inline uint64_t now_ns() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace vt::probes
