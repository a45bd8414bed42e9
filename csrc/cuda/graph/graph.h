#pragma once
// CUDA graphs: capture the work issued on a stream once, replay it with one launch. See
// Note [CUDA graph capture] and Note [Graph memory pools] (alloc/allocator.h). This layer sits
// above the allocator (it takes the graph's private pool); the per-thread capture state that the
// layers below consult is cuda/capture_state.h.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>

#include "cuda/capture_state.h"
#include "cuda/stream.h"

namespace vt::cuda {

// Note [CUDA graph capture]
// capture_begin starts stream capture on the calling thread's current stream (a non-default
// one: the legacy default stream cannot be captured) in cudaStreamCaptureModeThreadLocal, so
// other Python threads keep running eager work while this thread captures, as in PyTorch.
// Memory allocated on the capturing stream comes from the graph's private pool of the caching
// allocator; the replayed kernels keep using those addresses, so the pool lives until reset().
// A host synchronization on the capturing thread (synchronize, .item(), a synchronous copy, a
// scalars.cuda=device_copy upload) would invalidate the capture with an opaque CUDA error:
// note_host_sync (and the sites that would first issue an uncapturable copy) raise a
// RuntimeError naming the call instead (check_not_capturing, cuda/capture_state.h), and the
// capture stays usable.

// An identifier of a private memory pool (0: none). Graphs captured with the same id share it.
uint64_t new_graph_pool_id();

class Graph {
 public:
  Graph() = default;
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // pool 0: a new private pool; otherwise share the pool of that id (graph_pool_handle()).
  void capture_begin(uint64_t pool = 0);
  void capture_end();
  // The generator's seed and the first of n fresh counters (the ops layer, above this one, owns it).
  using ReserveRandom = std::function<std::pair<uint64_t, uint64_t>(uint64_t n)>;
  // Launches the captured work on the current stream of the graph's device. A capture that drew random
  // numbers first reserves random_counters() fresh counters through `reserve` and writes them to the
  // device in stream order (Note [Random numbers under capture]). Replays of one graph are serialized
  // (reserve, write, launch), and a replay on another stream first waits for the previous one.
  void replay(const ReserveRandom& reserve);
  uint64_t random_counters() const { return random_.consumed; }
  // Drops the captured graph and gives the private pool back (its memory is freed once no
  // graph uses it and no tensor allocated during capture is alive).
  void reset();
  uint64_t pool() const { return pool_; }
  bool capturing() const { return capturing_; }
  bool captured() const { return exec_ != nullptr; }

 private:
  cudaGraphExec_t exec_ = nullptr;
  Stream stream_;
  int device_ = -1;
  uint64_t pool_ = 0;
  bool holds_pool_ = false;
  bool capturing_ = false;
  CaptureRandom random_;  // state: 16 device bytes on random_device_, allocated at a capture, freed with the graph
  int random_device_ = -1;
  std::mutex replay_mutex_;
  cudaEvent_t last_replay_ = nullptr;  // recorded after each launch: a replay on another stream waits for it
};

}  // namespace vt::cuda
