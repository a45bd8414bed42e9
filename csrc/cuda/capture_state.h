#pragma once
// Which CUDA graph, if any, the calling thread is capturing. The runtime below the allocator
// (sync ledger, kernels that would copy from the host) asks it before a host synchronization;
// cuda::Graph (cuda/graph/graph.h, above the allocator) sets it. See Note [CUDA graph capture].

namespace vt::cuda {

class Graph;

// The graph the calling thread is capturing, or nullptr.
const Graph* capturing_graph();
// Called by Graph when this thread begins (graph) or ends (nullptr) a capture.
void set_capturing_graph(const Graph* graph);
bool thread_is_capturing();

// Raises a RuntimeError naming `site` when the calling thread is capturing a CUDA graph.
void check_not_capturing(const char* site);
// Raises a RuntimeError naming `op` when the calling thread is capturing: a random op's generator
// offset is read on the host at launch, so a replay would draw the same numbers every time.
void check_no_random_under_capture(const char* op);

}  // namespace vt::cuda
