#include "cuda/event.h"

#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/sync_ledger.h"

namespace vt::cuda {

Event::~Event() {
  // No device switch and no throw: this may run at interpreter exit, after the runtime unloaded.
  if (event_) {
    cudaEventDestroy(event_);
    cudaGetLastError();
  }
}

void Event::record(const Stream& s) {
  VT_CHECK(device_ < 0 || device_ == s.device(), "Event.record: the event belongs to cuda:", device_,
           " but the stream is on cuda:", s.device());
  DeviceGuard g(s.device());
  if (!event_) {
    unsigned flags = (timing_ ? cudaEventDefault : cudaEventDisableTiming) | (blocking_ ? cudaEventBlockingSync : 0);
    VT_CUDA_CHECK(cudaEventCreateWithFlags(&event_, flags));
    device_ = s.device();
  }
  VT_CUDA_CHECK(cudaEventRecord(event_, s.handle()));
  recorded_ = true;
}

void Event::wait(const Stream& s) const {
  if (!recorded()) return;
  DeviceGuard g(s.device());
  VT_CUDA_CHECK(cudaStreamWaitEvent(s.handle(), event_, 0));
}

bool Event::query() const {
  if (!recorded()) return true;
  DeviceGuard g(device_);
  cudaError_t err = cudaEventQuery(event_);
  if (err == cudaErrorNotReady) { cudaGetLastError(); return false; }
  VT_CUDA_CHECK(err);
  return true;
}

void Event::synchronize(const char* site) const {
  if (!recorded()) return;
  HostSync host_sync(site);
  DeviceGuard g(device_);
  VT_CUDA_CHECK(cudaEventSynchronize(event_));
}

float Event::elapsed_time(const Event& end) const {
  VT_CHECK(timing_ && end.timing_, "Event.elapsed_time: both events must be created with enable_timing=True");
  VT_CHECK(recorded() && end.recorded(), "Event.elapsed_time: both events must be recorded before measuring the time");
  DeviceGuard g(device_);
  float ms = 0;
  cudaError_t err = cudaEventElapsedTime(&ms, event_, end.event_);
  if (err == cudaErrorNotReady) {
    cudaGetLastError();
    VT_ERROR("Event.elapsed_time: the events have not completed yet; call synchronize() on the end event first");
  }
  VT_CUDA_CHECK(err);
  return ms;
}

}  // namespace vt::cuda
