#include "probes/instrumented_mutex.h"

#include <algorithm>
#include <map>

namespace vt::probes {

// Note [Lock statistics]
// Fields follow /proc/lock_stat: acquisitions, contentions (the lock was held when asked for),
// wait time (asked -> acquired) and hold time (acquired -> released), totals and maxima, in ns.
// Statistics are updated only by the thread that holds the lock (hold) or just got it (wait),
// so relaxed atomics suffice; max uses a CAS loop.

namespace {
std::mutex& registry_mutex() { static std::mutex m; return m; }
std::vector<InstrumentedMutex*>& registry() { static std::vector<InstrumentedMutex*> r; return r; }
// Stats of destroyed mutexes (per-graph gates) are folded here so they are not lost.
std::map<std::string, LockStats>& retired() { static std::map<std::string, LockStats> r; return r; }

void update_max(std::atomic<uint64_t>& m, uint64_t v) {
  uint64_t cur = m.load(std::memory_order_relaxed);
  while (v > cur && !m.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {}
}
void fold(LockStats& into, const LockStats& s) {
  into.acquisitions += s.acquisitions;
  into.contentions += s.contentions;
  into.wait_total_ns += s.wait_total_ns;
  into.hold_total_ns += s.hold_total_ns;
  into.wait_max_ns = std::max(into.wait_max_ns, s.wait_max_ns);
  into.hold_max_ns = std::max(into.hold_max_ns, s.hold_max_ns);
}
}  // namespace

InstrumentedMutex::InstrumentedMutex(std::string name, bool ephemeral)
    : name_(std::move(name)), ephemeral_(ephemeral) {
  if (ephemeral_) return;
  std::lock_guard<std::mutex> g(registry_mutex());
  registry().push_back(this);
}

InstrumentedMutex::~InstrumentedMutex() {
  LockStats s = stats();
  if (ephemeral_ && !s.acquisitions) return;
  std::lock_guard<std::mutex> g(registry_mutex());
  auto& r = registry();
  if (!ephemeral_) r.erase(std::remove(r.begin(), r.end(), this), r.end());
  if (s.acquisitions) {
    LockStats& into = retired()[name_];
    into.name = name_;
    fold(into, s);
  }
}

void InstrumentedMutex::lock_instrumented() {
  if (m_.try_lock()) {
    acq_.fetch_add(1, std::memory_order_relaxed);
    hold_start_ns_ = now_ns();
    return;
  }
  uint64_t t0 = now_ns();
  m_.lock();
  uint64_t t1 = now_ns();
  acq_.fetch_add(1, std::memory_order_relaxed);
  cont_.fetch_add(1, std::memory_order_relaxed);
  wait_total_.fetch_add(t1 - t0, std::memory_order_relaxed);
  update_max(wait_max_, t1 - t0);
  hold_start_ns_ = t1;
}

void InstrumentedMutex::unlock_instrumented() {
  uint64_t held = now_ns() - hold_start_ns_;
  hold_start_ns_ = 0;
  hold_total_.fetch_add(held, std::memory_order_relaxed);
  update_max(hold_max_, held);
  m_.unlock();
}

LockStats InstrumentedMutex::stats() const {
  LockStats s;
  s.name = name_;
  s.acquisitions = acq_.load(std::memory_order_relaxed);
  s.contentions = cont_.load(std::memory_order_relaxed);
  s.wait_total_ns = wait_total_.load(std::memory_order_relaxed);
  s.wait_max_ns = wait_max_.load(std::memory_order_relaxed);
  s.hold_total_ns = hold_total_.load(std::memory_order_relaxed);
  s.hold_max_ns = hold_max_.load(std::memory_order_relaxed);
  return s;
}

void InstrumentedMutex::reset() {
  for (auto* a : {&acq_, &cont_, &wait_total_, &wait_max_, &hold_total_, &hold_max_}) a->store(0);
}

std::vector<LockStats> lock_stats() {
  std::lock_guard<std::mutex> g(registry_mutex());
  std::map<std::string, LockStats> by_name = retired();
  for (InstrumentedMutex* m : registry()) {
    LockStats& into = by_name[m->name()];
    into.name = m->name();
    fold(into, m->stats());
  }
  std::vector<LockStats> out;
  for (auto& [_, s] : by_name) out.push_back(s);
  return out;
}

void reset_lock_stats() {
  std::lock_guard<std::mutex> g(registry_mutex());
  retired().clear();
  for (InstrumentedMutex* m : registry()) m->reset();
}

}  // namespace vt::probes
