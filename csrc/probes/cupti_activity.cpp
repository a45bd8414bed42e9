// The native CUPTI activity collector. See Note [Native CUPTI collector].
#include "probes/cupti_activity.h"

#include "core/error.h"

#if VT_HAVE_CUPTI
#include <cupti_activity.h>
#include <cupti_callbacks.h>
#include <dlfcn.h>
#include <link.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#endif

namespace vt::probes::cupti {

// Note [Native CUPTI collector]
// CUPTI hands activity records over through two callbacks that it calls on its own thread and on
// the threads that launch GPU work: bufferRequested (give CUPTI an empty buffer) and
// bufferCompleted (take a full one). cupti-python makes them Python functions, which need the
// GIL; under autograd.gil=held the thread that called backward keeps the GIL while it waits for
// the engine's workers, so a worker whose kernel launch asks for a buffer waits for the GIL
// forever (Note [CUPTI and autograd.gil=held] in probes/cupti.py). Here both callbacks are plain
// C++ that never touch Python: bufferRequested mallocs, bufferCompleted copies each record's
// fields into vectors under a mutex of its own (never held across a CUPTI call) and frees the
// buffer. The bindings also release the GIL around enable, disable and flush: those block on
// CUPTI's locks and thread, and a thread waiting there must not keep other Python threads waiting.
// - libcupti is dlopened, not linked: _C must import where no CUPTI is installed, and a process
//   may already hold one (torch's Kineto, triton, cupti-python); two copies would both attach to
//   the driver. open() first asks the loader for a loaded libcupti.so.13 or .so.12 (RTLD_NOLOAD)
//   and loads the given path only when there is none. It is never unloaded.
// - CUPTI's headers are used for types and record layouts only. A libcupti writes its own newest
//   record struct, which need not be this header's; every version shares the prefix we read (the
//   static_asserts below pin it), so records are read through this header's newest struct and only
//   those fields are used. A kernel's name is CUPTI's pointer, valid only while the buffer lives:
//   it is copied (once per distinct name).
// - CUPTI has one set of buffer callbacks per process, hence one collector: start() while it
//   records is an error. The callbacks are registered at every start(), since cupti-python or
//   Kineto may have registered theirs meanwhile; a buffer completed while none records (kinds
//   another tool enabled) is dropped.
// - stop() disables the kinds before the forced flush, so every record of the session and none
//   after it is delivered; the caller synchronizes the devices first (a forced flush returns
//   incomplete records too).

#if VT_HAVE_CUPTI

namespace {

// A CUDA 13 header's newest record structs. A CUDA 12 header's newest differ by minor version,
// so there the oldest structs with the same prefix are named; the prefix is all we read.
#if CUPTI_API_VERSION >= 130000
using KernelRecord = CUpti_ActivityKernel10;
using MemcpyRecord = CUpti_ActivityMemcpy6;
using MemsetRecord = CUpti_ActivityMemset4;
#else
using KernelRecord = CUpti_ActivityKernel4;
using MemcpyRecord = CUpti_ActivityMemcpy;
using MemsetRecord = CUpti_ActivityMemset;
#endif

#define VT_SAME_FIELD(T, Old, f) static_assert(offsetof(T, f) == offsetof(Old, f), #T "::" #f " moved")
VT_SAME_FIELD(KernelRecord, CUpti_ActivityKernel4, start);
VT_SAME_FIELD(KernelRecord, CUpti_ActivityKernel4, end);
VT_SAME_FIELD(KernelRecord, CUpti_ActivityKernel4, deviceId);
VT_SAME_FIELD(KernelRecord, CUpti_ActivityKernel4, streamId);
VT_SAME_FIELD(KernelRecord, CUpti_ActivityKernel4, gridX);
VT_SAME_FIELD(KernelRecord, CUpti_ActivityKernel4, blockZ);
VT_SAME_FIELD(KernelRecord, CUpti_ActivityKernel4, correlationId);
VT_SAME_FIELD(KernelRecord, CUpti_ActivityKernel4, name);
VT_SAME_FIELD(MemcpyRecord, CUpti_ActivityMemcpy, copyKind);
VT_SAME_FIELD(MemcpyRecord, CUpti_ActivityMemcpy, bytes);
VT_SAME_FIELD(MemcpyRecord, CUpti_ActivityMemcpy, start);
VT_SAME_FIELD(MemcpyRecord, CUpti_ActivityMemcpy, end);
VT_SAME_FIELD(MemcpyRecord, CUpti_ActivityMemcpy, deviceId);
VT_SAME_FIELD(MemcpyRecord, CUpti_ActivityMemcpy, streamId);
VT_SAME_FIELD(MemcpyRecord, CUpti_ActivityMemcpy, correlationId);
VT_SAME_FIELD(MemsetRecord, CUpti_ActivityMemset, bytes);
VT_SAME_FIELD(MemsetRecord, CUpti_ActivityMemset, start);
VT_SAME_FIELD(MemsetRecord, CUpti_ActivityMemset, end);
VT_SAME_FIELD(MemsetRecord, CUpti_ActivityMemset, deviceId);
VT_SAME_FIELD(MemsetRecord, CUpti_ActivityMemset, streamId);
VT_SAME_FIELD(MemsetRecord, CUpti_ActivityMemset, correlationId);
#undef VT_SAME_FIELD

constexpr size_t kRecordAlign = 8;  // CUPTI's ACTIVITY_RECORD_ALIGNMENT
constexpr size_t kMinBufferBytes = 64 << 10, kMaxBufferBytes = size_t(1) << 30;

// libcupti's entry points; immutable once published through g_api.
struct Api {
  void* handle = nullptr;
  std::string path;
  decltype(&cuptiActivityRegisterCallbacks) register_callbacks = nullptr;
  decltype(&cuptiActivityEnable) enable = nullptr;
  decltype(&cuptiActivityDisable) disable = nullptr;
  decltype(&cuptiActivityFlushAll) flush_all = nullptr;
  decltype(&cuptiActivityGetNextRecord) next_record = nullptr;
  decltype(&cuptiGetTimestamp) get_timestamp = nullptr;
  decltype(&cuptiGetResultString) result_string = nullptr;
  decltype(&cuptiGetCallbackName) callback_name = nullptr;                  // optional
  decltype(&cuptiActivityGetNumDroppedRecords) dropped_records = nullptr;  // optional
};
std::atomic<const Api*> g_api{nullptr};  // leaked with the library: callbacks may run at exit
std::mutex g_open_mutex;

const Api& loaded_api() {
  const Api* api = g_api.load(std::memory_order_acquire);
  VT_CHECK(api, "libcupti is not loaded: the native CUPTI collector needs open(path) "
                "(vibetensor._C._cupti_native_open) first");
  return *api;
}

std::string cupti_error(const Api& api, CUptiResult r, const std::string& call) {
  const char* text = nullptr;
  if (api.result_string(r, &text) != CUPTI_SUCCESS || !text) text = "unknown CUPTI error";
  return call + " failed: " + text + " (CUPTI error " + std::to_string(int(r)) + ")";
}
void check(const Api& api, CUptiResult r, const std::string& call) {
  if (r != CUPTI_SUCCESS) [[unlikely]] VT_ERROR(cupti_error(api, r, call));
}

const char* kind_name(CUpti_ActivityKind k) {
  switch (k) {
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: return "CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL";
    case CUPTI_ACTIVITY_KIND_MEMCPY: return "CUPTI_ACTIVITY_KIND_MEMCPY";
    case CUPTI_ACTIVITY_KIND_MEMSET: return "CUPTI_ACTIVITY_KIND_MEMSET";
    case CUPTI_ACTIVITY_KIND_RUNTIME: return "CUPTI_ACTIVITY_KIND_RUNTIME";
    default: return "CUPTI_ACTIVITY_KIND_?";
  }
}

// The cupti-python backend's names ("HTOD" -> "Memcpy HtoD"), so both backends agree.
std::string memcpy_name(uint8_t copy_kind) {
  switch (copy_kind) {
    case CUPTI_ACTIVITY_MEMCPY_KIND_UNKNOWN: return "Memcpy UNKNOWN";
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD: return "Memcpy HtoD";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH: return "Memcpy DtoH";
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOA: return "Memcpy HtoA";
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOH: return "Memcpy AtoH";
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOA: return "Memcpy AtoA";
    case CUPTI_ACTIVITY_MEMCPY_KIND_ATOD: return "Memcpy AtoD";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOA: return "Memcpy DtoA";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD: return "Memcpy DtoD";
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH: return "Memcpy HtoH";
    case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP: return "Memcpy PtoP";
    default: return "Memcpy " + std::to_string(int(copy_kind));
  }
}

class Collector {
 public:
  std::mutex control;                  // start, stop: held across CUPTI calls
  std::vector<CUpti_ActivityKind> enabled;  // under control
  std::atomic<bool> recording{false};
  std::atomic<size_t> buffer_bytes{8 << 20};
  std::atomic<uint64_t> dropped{0};

  void clear() {
    std::lock_guard lock(records_mutex_);
    acts_ = {};
    names_.clear();
    name_ids_.clear();
  }
  Activities take() {
    std::lock_guard lock(records_mutex_);
    Activities out = std::move(acts_);
    out.names.assign(names_.begin(), names_.end());
    acts_ = {};
    names_.clear();
    name_ids_.clear();
    return out;
  }
  void add_buffer(const Api& api, uint8_t* buffer, size_t valid) {
    std::lock_guard lock(records_mutex_);
    CUpti_Activity* r = nullptr;
    // Anything but CUPTI_SUCCESS ends the buffer (CUPTI_ERROR_MAX_LIMIT_REACHED at its end).
    while (api.next_record(buffer, valid, &r) == CUPTI_SUCCESS) add(r);
  }

 private:
  std::mutex records_mutex_;  // bufferCompleted's; never held across a CUPTI call
  Activities acts_;
  std::deque<std::string> names_;  // stable addresses: name_ids_'s keys point into them
  std::unordered_map<std::string_view, uint32_t> name_ids_;

  uint32_t intern(std::string_view name) {
    auto it = name_ids_.find(name);
    if (it != name_ids_.end()) return it->second;
    const auto id = uint32_t(names_.size());
    name_ids_.emplace(names_.emplace_back(name), id);
    return id;
  }
  void add(const CUpti_Activity* r) {
    switch (r->kind) {  // the kind says which struct the record is
      case CUPTI_ACTIVITY_KIND_KERNEL:
      case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: {
        const auto* k = reinterpret_cast<const KernelRecord*>(r);
        acts_.gpu.push_back({GpuKind::kernel, intern(k->name ? k->name : "<unnamed kernel>"), k->start, k->end,
                             k->deviceId, k->streamId, k->correlationId, 0, {k->gridX, k->gridY, k->gridZ},
                             {k->blockX, k->blockY, k->blockZ}});
        break;
      }
      case CUPTI_ACTIVITY_KIND_MEMCPY: {
        const auto* m = reinterpret_cast<const MemcpyRecord*>(r);
        acts_.gpu.push_back({GpuKind::memcpy, intern(memcpy_name(m->copyKind)), m->start, m->end, m->deviceId,
                             m->streamId, m->correlationId, m->bytes, {}, {}});
        break;
      }
      case CUPTI_ACTIVITY_KIND_MEMSET: {
        const auto* m = reinterpret_cast<const MemsetRecord*>(r);
        acts_.gpu.push_back({GpuKind::memset, intern("Memset"), m->start, m->end, m->deviceId, m->streamId,
                             m->correlationId, m->bytes, {}, {}});
        break;
      }
      case CUPTI_ACTIVITY_KIND_RUNTIME: {
        const auto* a = reinterpret_cast<const CUpti_ActivityAPI*>(r);
        acts_.runtime.push_back({uint32_t(a->cbid), a->start, a->end, a->threadId, a->correlationId});
        break;
      }
      default: break;
    }
  }
};

Collector& collector() {
  static Collector* c = new Collector;  // leaked: CUPTI may complete a buffer during exit
  return *c;
}

// CUPTI's callbacks, on its thread and on kernel-launching threads: no Python here.
void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  const size_t bytes = collector().buffer_bytes.load(std::memory_order_relaxed);  // a multiple of kRecordAlign
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(kRecordAlign, bytes));  // null: CUPTI drops records
  *size = *buffer ? bytes : 0;
  *max_records = 0;  // as many as fit
}

void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t* buffer, size_t, size_t valid) {
  Collector& c = collector();
  const Api* api = g_api.load(std::memory_order_acquire);
  if (api && c.recording.load(std::memory_order_acquire)) {
    try {
      if (buffer && valid) c.add_buffer(*api, buffer, valid);
    } catch (...) {
      // Out of memory: the buffer's remaining records are lost; nothing may unwind into CUPTI.
    }
    size_t n = 0;
    if (api->dropped_records && api->dropped_records(ctx, stream, &n) == CUPTI_SUCCESS)
      c.dropped.fetch_add(n, std::memory_order_relaxed);
  }
  std::free(buffer);
}

template <class F> void resolve(void* handle, const std::string& path, const char* name, F& fn, bool required) {
  dlerror();
  fn = reinterpret_cast<F>(dlsym(handle, name));
  if (!fn && required) {
    const char* err = dlerror();
    const std::string why = err ? err : "not found";  // dlclose may overwrite dlerror's text
    dlclose(handle);
    VT_ERROR("libcupti at '", path, "' has no symbol ", name, " (", why, "): expected libcupti 12 or newer");
  }
}

}  // namespace

std::optional<std::string> not_built_reason() { return std::nullopt; }

std::string open(const std::string& path) {
  std::lock_guard lock(g_open_mutex);
  if (const Api* api = g_api.load(std::memory_order_acquire)) return api->path;
  void* handle = nullptr;
  for (const char* soname : {"libcupti.so.13", "libcupti.so.12"})  // a copy in the process already
    if ((handle = dlopen(soname, RTLD_NOW | RTLD_NOLOAD))) break;
  if (!handle) {
    VT_CHECK(!path.empty(), "cannot load libcupti: no path was given and none is loaded; expected the path of "
                            "libcupti.so.12 or libcupti.so.13");
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = dlerror();
      VT_ERROR("cannot load libcupti from '", path, "' (", why ? why : "dlopen failed",
               "): expected the path of libcupti.so.12 or libcupti.so.13");
    }
  }
  auto api = std::make_unique<Api>();
  api->handle = handle;
  const link_map* lm = nullptr;  // the file loaded, which differs from `path` when a copy was loaded already
  api->path = dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name && *lm->l_name ? lm->l_name : path;
  resolve(handle, api->path, "cuptiActivityRegisterCallbacks", api->register_callbacks, true);
  resolve(handle, api->path, "cuptiActivityEnable", api->enable, true);
  resolve(handle, api->path, "cuptiActivityDisable", api->disable, true);
  resolve(handle, api->path, "cuptiActivityFlushAll", api->flush_all, true);
  resolve(handle, api->path, "cuptiActivityGetNextRecord", api->next_record, true);
  resolve(handle, api->path, "cuptiGetTimestamp", api->get_timestamp, true);
  resolve(handle, api->path, "cuptiGetResultString", api->result_string, true);
  resolve(handle, api->path, "cuptiGetCallbackName", api->callback_name, false);
  resolve(handle, api->path, "cuptiActivityGetNumDroppedRecords", api->dropped_records, false);
  g_api.store(api.release(), std::memory_order_release);
  return g_api.load(std::memory_order_relaxed)->path;
}

void start(bool runtime, size_t buffer_bytes) {
  VT_CHECK_VALUE(buffer_bytes >= kMinBufferBytes && buffer_bytes <= kMaxBufferBytes, "CUPTI buffer size ",
                 buffer_bytes, " is out of range: expected ", kMinBufferBytes, " to ", kMaxBufferBytes, " bytes");
  const Api& api = loaded_api();
  Collector& c = collector();
  std::lock_guard lock(c.control);
  VT_CHECK(!c.recording.load(), "a GPU activity collector is already recording; CUPTI allows one per process");
  c.clear();
  c.dropped.store(0, std::memory_order_relaxed);
  c.buffer_bytes.store((buffer_bytes + kRecordAlign - 1) / kRecordAlign * kRecordAlign, std::memory_order_relaxed);
  check(api, api.register_callbacks(buffer_requested, buffer_completed), "cuptiActivityRegisterCallbacks");
  c.recording.store(true, std::memory_order_release);
  std::vector<CUpti_ActivityKind> kinds = {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY,
                                           CUPTI_ACTIVITY_KIND_MEMSET};
  if (runtime) kinds.push_back(CUPTI_ACTIVITY_KIND_RUNTIME);
  try {
    for (CUpti_ActivityKind k : kinds) {
      check(api, api.enable(k), std::string("cuptiActivityEnable(") + kind_name(k) + ")");
      c.enabled.push_back(k);
    }
  } catch (...) {
    for (CUpti_ActivityKind k : c.enabled) api.disable(k);  // the first error is the one to report
    c.enabled.clear();
    c.recording.store(false, std::memory_order_release);
    throw;
  }
}

Activities stop() {
  Collector& c = collector();
  std::lock_guard lock(c.control);
  VT_CHECK(c.recording.load(), "no GPU activity collector is recording: stop() must follow a successful start()");
  const Api& api = loaded_api();
  // The session ends whatever fails; the first failure is reported after.
  std::string error;
  for (CUpti_ActivityKind k : c.enabled)
    if (CUptiResult r = api.disable(k); r != CUPTI_SUCCESS && error.empty())
      error = cupti_error(api, r, std::string("cuptiActivityDisable(") + kind_name(k) + ")");
  c.enabled.clear();
  if (CUptiResult r = api.flush_all(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED); r != CUPTI_SUCCESS && error.empty())
    error = cupti_error(api, r, "cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED)");
  c.recording.store(false, std::memory_order_release);
  Activities out = c.take();
  if (!error.empty()) VT_ERROR(error);
  return out;
}

uint64_t timestamp() {
  const Api& api = loaded_api();
  uint64_t t = 0;
  check(api, api.get_timestamp(&t), "cuptiGetTimestamp");
  return t;
}

uint64_t dropped() { return collector().dropped.load(std::memory_order_relaxed); }

std::string callback_name(uint32_t cbid) {
  const Api& api = loaded_api();
  VT_CHECK(api.callback_name, "libcupti at '", api.path,
           "' has no cuptiGetCallbackName: expected libcupti 12 or newer");
  const char* name = nullptr;
  check(api, api.callback_name(CUPTI_CB_DOMAIN_RUNTIME_API, cbid, &name),
        "cuptiGetCallbackName(CUPTI_CB_DOMAIN_RUNTIME_API, " + std::to_string(cbid) + ")");
  return name ? name : "";
}

#else  // !VT_HAVE_CUPTI

namespace {
[[noreturn]] void not_built() { VT_ERROR("the native CUPTI collector is not built: ", *not_built_reason()); }
}  // namespace

std::optional<std::string> not_built_reason() {
#if VT_CUDA
  return "cupti_activity.h was not found when vibetensor was built (in the CUDA toolkit's include/ or "
         "extras/CUPTI/include)";
#else
  return "vibetensor was built without the CUDA backend (VT_CUDA=off, or auto without a GPU or nvcc)";
#endif
}
std::string open(const std::string&) { not_built(); }
void start(bool, size_t) { not_built(); }
Activities stop() { not_built(); }
uint64_t timestamp() { not_built(); }
uint64_t dropped() { not_built(); }
std::string callback_name(uint32_t) { not_built(); }

#endif  // VT_HAVE_CUPTI

}  // namespace vt::probes::cupti
