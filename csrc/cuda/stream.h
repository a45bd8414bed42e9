#pragma once
// CUDA streams: a per-device, per-thread current stream that kernels and copies are issued on,
// and pools of streams to hand out. See Note [Default stream] and Note [Stream pool].
#include <cuda_runtime_api.h>

#include <cstdint>
#include <utility>

namespace vt::cuda {

// Note [Default stream]
// The default stream of every device is the legacy default stream (handle 0), as in PyTorch: it
// is ordered with all blocking streams of its device, so code that never picks a stream sees
// one ordered queue, and DLPack consumers that assume "stream 1" (legacy) need no extra sync.
// The per-thread default stream (cudaStreamPerThread) would let Python threads issue work
// independently, but would differ from PyTorch and from the DLPack default; streams that run
// concurrently are taken from the pool instead. The current stream is thread-local: a thread
// that never set one uses the default stream.

// Note [Stream pool]
// Streams are never destroyed while vibetensor runs (work, events and cached memory refer to
// them): vt.cuda.Stream() takes the next stream, round-robin, from a pool of kPoolSize
// non-blocking streams per device and priority, created lazily (PyTorch does the same).
constexpr int kPoolSize = 32;

class Stream {
 public:
  Stream() = default;  // the default stream of device 0
  Stream(cudaStream_t handle, int device) : handle_(handle), device_(device) {}

  cudaStream_t handle() const { return handle_; }
  int device() const { return device_; }
  bool is_default() const { return handle_ == nullptr; }
  uint64_t id() const { return uint64_t(reinterpret_cast<uintptr_t>(handle_)); }
  int priority() const;

  // True when all work queued so far has completed (no host wait).
  bool query() const;
  // Blocks the host until the queued work completes (counted in the sync ledger under `site`).
  void synchronize(const char* site = "stream_synchronize") const;
  // Later work on this stream waits for the work queued so far on `other` (no host wait).
  void wait_stream(const Stream& other) const;

  bool operator==(const Stream& o) const { return handle_ == o.handle_ && device_ == o.device_; }
  bool operator!=(const Stream& o) const { return !(*this == o); }

 private:
  cudaStream_t handle_ = nullptr;
  int device_ = 0;
};

Stream default_stream(int device = -1);
// The calling thread's current stream of `device` (-1: the current device).
Stream current_stream(int device = -1);
void set_current_stream(const Stream& s);
// A stream of the pool; priority is clamped to the device's range (lower is more urgent).
Stream stream_from_pool(int device = -1, int priority = 0);
// (least, greatest) priorities, e.g. (0, -5): numerically lower values run first.
std::pair<int, int> priority_range(int device = -1);
// Wraps a stream made elsewhere (e.g. by PyTorch); vibetensor never destroys it.
Stream external_stream(cudaStream_t handle, int device);

// Makes `s` the current stream of its device, and its device current, for a scope.
class StreamGuard {
 public:
  explicit StreamGuard(const Stream& s);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  Stream prev_stream_;
  int prev_device_ = -1;
};

// Blocks until all work on `device` (-1: current) completes; counted under `site`.
void device_synchronize(int device = -1, const char* site = "device_synchronize");

}  // namespace vt::cuda
