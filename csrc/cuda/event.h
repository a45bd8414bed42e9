#pragma once
// CUDA events: markers recorded on a stream, to order work across streams (wait), to poll or
// block on it (query, synchronize) and to time it (elapsed_time).
#include <cuda_runtime_api.h>

#include "cuda/stream.h"

namespace vt::cuda {

class Event {
 public:
  explicit Event(bool enable_timing = false, bool blocking = false)
      : timing_(enable_timing), blocking_(blocking) {}
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // The CUDA event is created on the device of the first stream it is recorded on.
  void record(const Stream& s);
  // Work queued on `s` later waits for the recorded work (nothing to wait for if never recorded).
  void wait(const Stream& s) const;
  bool query() const;  // true when the recorded work completed (or nothing was recorded)
  void synchronize(const char* site = "event_synchronize") const;
  // Milliseconds from this event to `end`; both recorded with timing on, and completed.
  float elapsed_time(const Event& end) const;

  bool recorded() const { return event_ != nullptr && recorded_; }
  int device() const { return device_; }
  cudaEvent_t handle() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
  int device_ = -1;
  bool timing_, blocking_;
  bool recorded_ = false;
};

}  // namespace vt::cuda
