#include "cuda/stream.h"

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <vector>

#include "cuda/device.h"
#include "cuda/status_check.h"
#include "cuda/sync_ledger.h"

namespace vt::cuda {

namespace {

// nullptr: the thread has not chosen a stream for that device (the default stream).
thread_local std::array<cudaStream_t, kMaxDevices> tls_current{};

struct Pool {
  std::vector<cudaStream_t> streams;
  std::atomic<uint32_t> next{0};
};

std::mutex& pool_mutex() { static std::mutex m; return m; }
// (device, priority) -> pool; never destroyed (Note [Stream pool]).
std::map<std::pair<int, int>, Pool*>& pools() { static auto* p = new std::map<std::pair<int, int>, Pool*>(); return *p; }

}  // namespace

int Stream::priority() const {
  int p = 0;
  VT_CUDA_CHECK(cudaStreamGetPriority(handle_, &p));
  return p;
}

bool Stream::query() const {
  DeviceGuard g(device_);
  cudaError_t err = cudaStreamQuery(handle_);
  if (err == cudaErrorNotReady) { cudaGetLastError(); return false; }
  VT_CUDA_CHECK(err);
  return true;
}

void Stream::synchronize(const char* site) const {
  HostSync host_sync(site);
  DeviceGuard g(device_);
  VT_CUDA_CHECK(cudaStreamSynchronize(handle_));
}

void Stream::wait_stream(const Stream& other) const {
  if (other == *this) return;
  DeviceGuard g(other.device());
  cudaEvent_t ev;
  VT_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
  VT_CUDA_CHECK(cudaEventRecord(ev, other.handle()));
  cudaError_t err = cudaStreamWaitEvent(handle_, ev, 0);
  cudaEventDestroy(ev);  // released once the recorded work completes
  VT_CUDA_CHECK(err);
}

Stream default_stream(int device) { return Stream(nullptr, resolve_device(device)); }

Stream current_stream(int device) {
  if (device < 0) device = current_device();
  return Stream(tls_current[device], device);
}

void set_current_stream(const Stream& s) {
  check_device(Device{DeviceType::CUDA, int8_t(s.device())});
  tls_current[s.device()] = s.handle();
}

std::pair<int, int> priority_range(int device) {
  DeviceGuard g(resolve_device(device));
  int least = 0, greatest = 0;
  VT_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  return {least, greatest};
}

Stream stream_from_pool(int device, int priority) {
  device = resolve_device(device);
  auto [least, greatest] = priority_range(device);
  priority = priority > least ? least : priority < greatest ? greatest : priority;
  Pool* pool;
  {
    std::lock_guard<std::mutex> g(pool_mutex());
    Pool*& p = pools()[{device, priority}];
    if (!p) {
      p = new Pool();
      DeviceGuard dg(device);
      for (int i = 0; i < kPoolSize; ++i) {
        cudaStream_t s;
        VT_CUDA_CHECK(cudaStreamCreateWithPriority(&s, cudaStreamNonBlocking, priority));
        p->streams.push_back(s);
      }
    }
    pool = p;
  }
  uint32_t i = pool->next.fetch_add(1, std::memory_order_relaxed) % kPoolSize;
  return Stream(pool->streams[i], device);
}

Stream external_stream(cudaStream_t handle, int device) {
  check_device(Device{DeviceType::CUDA, int8_t(device)});
  return Stream(handle, device);
}

StreamGuard::StreamGuard(const Stream& s) {
  prev_device_ = current_device();
  prev_stream_ = current_stream(s.device());
  if (prev_device_ != s.device()) VT_CUDA_CHECK(cudaSetDevice(s.device()));
  set_current_stream(s);
}

StreamGuard::~StreamGuard() {
  tls_current[prev_stream_.device()] = prev_stream_.handle();
  if (prev_device_ >= 0) cudaSetDevice(prev_device_);
}

void device_synchronize(int device, const char* site) {
  device = resolve_device(device);
  HostSync host_sync(site);
  DeviceGuard g(device);
  VT_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace vt::cuda
