#pragma once
// A GPU activity collector on CUPTI's activity API whose buffer callbacks are plain C++ (no
// Python, no GIL), for vibetensor.probes.cupti. libcupti is dlopened at run time, never linked.
// See Note [Native CUPTI collector] in cupti_activity.cpp.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vt::probes::cupti {

enum class GpuKind : uint8_t { kernel, memcpy, memset };

// A kernel, memcpy or memset on CUPTI's clock (cuptiGetTimestamp).
struct GpuActivity {
  GpuKind kind;
  uint32_t name;  // index into Activities::names: the kernel's name, "Memcpy HtoD", "Memset", ...
  uint64_t start, end;
  uint32_t device, stream, correlation;
  uint64_t bytes;  // memcpy / memset size, 0 for kernels
  int32_t grid[3], block[3];  // kernels only
};

// A CUDA runtime API call on CUPTI's clock; cbid names it (callback_name).
struct RuntimeActivity {
  uint32_t cbid;
  uint64_t start, end;
  uint32_t thread_id, correlation;
};

struct Activities {
  std::vector<std::string> names;  // each distinct name once
  std::vector<GpuActivity> gpu;
  std::vector<RuntimeActivity> runtime;
};

// Why the collector was not compiled into this build, or nullopt when it was.
std::optional<std::string> not_built_reason();
// Loads libcupti (a copy already in the process first, else `path`) and resolves its entry
// points; later calls keep the first library. Returns the loaded library's file name.
std::string open(const std::string& path);
// Records kernels, memcpys and memsets (and runtime API calls when `runtime`) in buffers of
// `buffer_bytes` until stop(). One collector per process: an error while one is recording.
void start(bool runtime, size_t buffer_bytes);
// Disables the activity kinds, flushes CUPTI's buffers and returns what was recorded since start().
Activities stop();
uint64_t timestamp();
// Records CUPTI dropped since the last start() (buffers it could not get or fill).
uint64_t dropped();
// The runtime API function's name, as CUPTI gives it ("cudaLaunchKernel_v7000").
std::string callback_name(uint32_t cbid);

}  // namespace vt::probes::cupti
