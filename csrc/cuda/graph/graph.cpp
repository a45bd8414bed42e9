#include "cuda/graph/graph.h"

#include <atomic>

#include "alloc/allocator.h"
#include "core/error.h"
#include "cuda/device.h"
#include "cuda/random_state.h"
#include "cuda/status_check.h"

namespace vt::cuda {

namespace {
std::atomic<uint64_t> g_next_pool{1};
}  // namespace

uint64_t new_graph_pool_id() { return g_next_pool.fetch_add(1, std::memory_order_relaxed); }

Graph::~Graph() {
  try {
    reset();
  } catch (...) {
  }
  if (random_.state || last_replay_) {
    DeviceGuard g(random_.state ? random_device_ : device_);
    if (random_.state) cudaFree(random_.state);
    if (last_replay_) cudaEventDestroy(last_replay_);
  }
}

void Graph::capture_begin(uint64_t pool) {
  VT_CHECK(!capturing_ && !exec_, "CUDAGraph.capture_begin: this graph already holds a capture; call reset() first");
  VT_CHECK(!thread_is_capturing(), "CUDAGraph.capture_begin: this thread is already capturing another CUDA graph");
  int dev = current_device();
  check_device(Device{DeviceType::CUDA, int8_t(dev)});
  Stream s = current_stream(dev);
  VT_CHECK(!s.is_default(),
           "CUDAGraph.capture_begin: the current stream is the default stream, which cannot be captured; capture on a "
           "side stream (vibetensor.cuda.graph(...) does this for you)");
  if (random_.state && random_device_ != dev) {  // a recapture on another device: the state moves with it
    DeviceGuard g(random_device_);
    cudaFree(random_.state);
    if (last_replay_) cudaEventDestroy(last_replay_);
    random_.state = nullptr;
    last_replay_ = nullptr;
  }
  if (!random_.state) {  // before the capture: cudaMalloc is not a stream operation to record
    DeviceGuard g(dev);
    VT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&random_.state), 2 * sizeof(uint64_t)));
    random_device_ = dev;
  }
  random_.consumed = 0;
  uint64_t id = pool ? pool : new_graph_pool_id();
  alloc::DeviceAllocator& a = alloc::cuda_allocator();
  a.begin_capture(dev, id, s.handle());  // raises for allocators that cannot serve a capture
  cudaError_t err = cudaStreamBeginCapture(s.handle(), cudaStreamCaptureModeThreadLocal);
  if (err != cudaSuccess) {
    cudaGetLastError();
    a.end_capture(dev, id);
    a.release_pool(dev, id);
    VT_CUDA_CHECK(err);
  }
  device_ = dev;
  stream_ = s;
  pool_ = id;
  holds_pool_ = true;
  capturing_ = true;
  set_capturing_graph(this, &random_);
}

void Graph::capture_end() {
  VT_CHECK(capturing_, "CUDAGraph.capture_end: capture_begin() was not called");
  VT_CHECK(capturing_graph() == this, "CUDAGraph.capture_end: must be called on the thread that began the capture");
  VT_CHECK(current_stream(device_) == stream_,
           "CUDAGraph.capture_end: the current stream is not the stream the capture began on");
  set_capturing_graph(nullptr);
  capturing_ = false;
  cudaGraph_t graph = nullptr;
  cudaError_t err = cudaStreamEndCapture(stream_.handle(), &graph);
  alloc::cuda_allocator().end_capture(device_, pool_);
  if (err != cudaSuccess || !graph) {
    cudaGetLastError();
    if (graph) cudaGraphDestroy(graph);
    VT_ERROR("CUDAGraph.capture_end: the capture failed (", cudaGetErrorString(err),
             "); an operation that is not allowed during capture ran on the captured stream");
  }
  err = cudaGraphInstantiate(&exec_, graph, 0);
  cudaGraphDestroy(graph);
  if (err != cudaSuccess) {
    exec_ = nullptr;
    VT_CUDA_CHECK(err);
  }
}

void Graph::replay(const ReserveRandom& reserve) {
  VT_CHECK(exec_, "CUDAGraph.replay: nothing was captured (call capture_begin() and capture_end() first)");
  // A replay inside another capture would bake this replay's counters into that graph.
  check_not_capturing("CUDAGraph.replay");
  std::lock_guard<std::mutex> lock(replay_mutex_);
  DeviceGuard g(device_);
  cudaStream_t s = current_stream(device_).handle();
  if (random_.consumed) {
    if (last_replay_) VT_CUDA_CHECK(cudaStreamWaitEvent(s, last_replay_, 0));  // the state is still being read
    auto [seed, offset] = reserve(random_.consumed);
    write_random_state(random_.state, seed, offset, s);
  }
  VT_CUDA_CHECK(cudaGraphLaunch(exec_, s));
  if (random_.consumed) {
    if (!last_replay_) VT_CUDA_CHECK(cudaEventCreateWithFlags(&last_replay_, cudaEventDisableTiming));
    VT_CUDA_CHECK(cudaEventRecord(last_replay_, s));
  }
}

void Graph::reset() {
  if (capturing_) {
    // Abandoned capture (an error inside it): end it and drop whatever was recorded.
    if (capturing_graph() == this) set_capturing_graph(nullptr);
    capturing_ = false;
    cudaGraph_t graph = nullptr;
    cudaStreamEndCapture(stream_.handle(), &graph);
    cudaGetLastError();
    if (graph) cudaGraphDestroy(graph);
    alloc::cuda_allocator().end_capture(device_, pool_);
  }
  if (exec_) {
    DeviceGuard g(device_);
    cudaGraphExecDestroy(exec_);
    exec_ = nullptr;
  }
  if (holds_pool_) {
    holds_pool_ = false;
    alloc::cuda_allocator().release_pool(device_, pool_);
  }
  random_.consumed = 0;
}

}  // namespace vt::cuda
