#pragma once
// The locks every allocator call takes, by policy alloc.lock. See Note [Allocator locks].
#include "policy/catalogue.h"
#include "probes/instrumented_mutex.h"

namespace vt::alloc {

// Note [Allocator locks]
// per_device: one mutex per device guards that device's free lists, block map and statistics.
// global (VibeTensor): every alloc/free also takes one process-wide mutex for the whole call and
// a global metadata mutex around its block-map and statistics updates, so allocations on
// different devices or threads serialize. The device mutex is taken in both modes (innermost),
// so switching the policy while other threads allocate stays safe.
probes::InstrumentedMutex& global_alloc_mutex();
probes::InstrumentedMutex& global_metadata_mutex();

class AllocLock {
 public:
  explicit AllocLock(probes::InstrumentedMutex& device_mutex)
      : global_(policy::alloc_lock.get() == policy::AllocLock::global), device_(device_mutex) {
    if (global_) global_alloc_mutex().lock();
    device_.lock();
  }
  ~AllocLock() {
    device_.unlock();
    if (global_) global_alloc_mutex().unlock();
  }
  AllocLock(const AllocLock&) = delete;
  AllocLock& operator=(const AllocLock&) = delete;
  bool global() const { return global_; }

 private:
  bool global_;
  probes::InstrumentedMutex& device_;
};

// Held around block-map and statistics updates; takes the metadata mutex under alloc.lock=global.
class MetadataLock {
 public:
  explicit MetadataLock(const AllocLock& l) : global_(l.global()) { if (global_) global_metadata_mutex().lock(); }
  ~MetadataLock() { if (global_) global_metadata_mutex().unlock(); }
  MetadataLock(const MetadataLock&) = delete;
  MetadataLock& operator=(const MetadataLock&) = delete;

 private:
  bool global_;
};

}  // namespace vt::alloc
