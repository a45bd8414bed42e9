#pragma once
#include <cstdint>
// Which CUDA graph, if any, the calling thread is capturing. The runtime below the allocator
// (sync ledger, kernels that would copy from the host) asks it before a host synchronization;
// cuda::Graph (cuda/graph/graph.h, above the allocator) sets it. See Note [CUDA graph capture].

namespace vt::cuda {

class Graph;

// Note [Random numbers under capture]
// A random op draws numbers (seed, offset + i) from the host generator, and reserves its counters
// when it launches. A captured launch would bake both in, so every replay would repeat the capture's
// numbers. Under capture the op instead takes its counters from the graph being captured: `state`
// points to two device words {seed, base offset} that the graph owns, the op gets the next `consumed`
// counters as offsets relative to that base, and its kernel reads seed = state[0] and counter =
// state[1] + offset + i. Each replay first reserves `consumed` fresh counters from the generator and
// writes {seed, first counter} into `state` with a one-thread kernel, in stream order, before launching
// the graph (Graph::replay, cuda/random_state.h), so replays draw new numbers from the same generator eager ops use, as PyTorch's
// graph-safe Philox offsets do, and manual_seed between replays takes effect.
struct CaptureRandom {
  uint64_t* state = nullptr;  // device: {seed, base offset}, written before each replay
  uint64_t consumed = 0;      // counters the captured ops use per replay
};

// The graph the calling thread is capturing, or nullptr.
const Graph* capturing_graph();
// The random record of that capture (nullptr when not capturing).
CaptureRandom* capture_random();
// Called by Graph when this thread begins (graph, its random record) or ends (nullptr) a capture.
void set_capturing_graph(const Graph* graph, CaptureRandom* random = nullptr);
bool thread_is_capturing();

// Raises a RuntimeError naming `site` when the calling thread is capturing a CUDA graph.
void check_not_capturing(const char* site);

}  // namespace vt::cuda
