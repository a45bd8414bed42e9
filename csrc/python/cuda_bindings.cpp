// vibetensor._C._cuda: devices, streams, events, allocator statistics and the sync ledger, wrapped
// by vibetensor/cuda/__init__.py. In a build without CUDA the module only says so (is_built()).
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>

#include "ops/ops.h"
#include "python/bindings.h"

#if VT_CUDA
#include "alloc/allocator.h"
#include "alloc/pinned.h"
#include "cuda/device.h"
#include "cuda/event.h"
#include "cuda/graph/graph.h"
#include "cuda/item.h"
#include "cuda/matmul_settings.h"
#include "cuda/stream.h"
#include "cuda/sync_ledger.h"
#include "ops/random/philox.h"
#include "policy/catalogue.h"
#endif

namespace vt::python {

namespace {

nb::object scalar_to_python(const Scalar& s) {
  if (s.is_bool()) return nb::bool_(s.to<bool>());
  if (s.is_integral()) return nb::int_(s.to_int());
  return nb::float_(s.to_double());
}

#if VT_CUDA

nb::dict stats_dict(const alloc::Stats& s) {
  nb::dict d;
  d["allocated_bytes.all.current"] = s.allocated;
  d["allocated_bytes.all.peak"] = s.peak_allocated;
  d["allocated_bytes.all.allocated"] = s.allocated_total;
  d["allocated_bytes.all.freed"] = s.freed_total;
  d["reserved_bytes.all.current"] = s.reserved;
  d["reserved_bytes.all.peak"] = s.peak_reserved;
  d["requested_bytes.all.current"] = s.requested;
  d["requested_bytes.all.peak"] = s.peak_requested;
  d["active.all.current"] = s.active_blocks;
  d["segment.all.current"] = s.segments;
  d["num_alloc_calls"] = s.alloc_calls;
  d["num_free_calls"] = s.free_calls;
  d["num_cache_hits"] = s.hits;
  d["num_cache_misses"] = s.misses;
  d["num_device_alloc"] = s.device_mallocs;
  d["num_device_free"] = s.device_frees;
  d["num_alloc_retries"] = s.alloc_retries;
  d["num_ooms"] = s.ooms;
  return d;
}

// The tensor's memory is also used by work queued on `s`: the allocator does not reuse it after
// the tensor dies until that work completes (Note [CUDA allocators]). Like pin_memory it joins
// tensors to the allocators, so it sits above csrc/alloc, not in csrc/cuda.
void record_stream(const Tensor& t, const cuda::Stream& s) {
  if (t.device().is_cpu()) {
    // A pinned host tensor read or written by a copy on s.
    if (t->storage()->data()) alloc::pinned_record_stream(t->storage()->data(), s);
    return;
  }
  VT_CHECK(t.device().index == s.device(), "record_stream: the tensor is on ", t.device(), " but the stream on cuda:", s.device());
  alloc::DeviceAllocator* a = alloc::cuda_allocator_if_created();
  if (a && t->storage()->data()) a->record_stream(t->storage()->data(), s.device(), s.handle());
}

alloc::Stats stats_of(int device) {
  device = cuda::resolve_device(device);
  alloc::DeviceAllocator* a = alloc::cuda_allocator_if_created();
  return a ? a->stats(device) : alloc::Stats{};
}

nb::list snapshot_list() {
  nb::list out;
  alloc::DeviceAllocator* a = alloc::cuda_allocator_if_created();
  if (!a) return out;
  for (const alloc::SegmentInfo& s : a->snapshot()) {
    nb::dict seg;
    seg["device"] = s.device;
    seg["address"] = s.address;
    seg["total_size"] = s.size;
    seg["stream"] = s.stream;
    seg["segment_type"] = s.type;
    size_t allocated = 0;
    nb::list blocks;
    for (const alloc::BlockInfo& b : s.blocks) {
      nb::dict bd;
      bd["address"] = b.address;
      bd["size"] = b.size;
      bd["requested_size"] = b.requested;
      bd["allocated"] = b.allocated;
      bd["state"] = b.state;
      blocks.append(bd);
      if (b.allocated) allocated += b.size;
    }
    seg["allocated_size"] = allocated;
    seg["blocks"] = blocks;
    out.append(seg);
  }
  return out;
}

void bind_cuda_backend(nb::module_& c) {
  c.def("is_built", [] { return true; });
  c.def("is_available", &cuda::is_available);
  c.def("device_count", &cuda::device_count);
  c.def("unavailable_reason", [] { return cuda::unavailable_reason(); });
  c.def("current_device", &cuda::current_device);
  c.def("set_device", &cuda::set_device);
  c.def("get_device_name", &cuda::device_name, nb::arg("device") = -1);
  c.def("get_device_capability", &cuda::device_capability, nb::arg("device") = -1);
  c.def(
      "get_device_properties",
      [](int device) {
        cuda::DeviceProperties p = cuda::device_properties(device);
        nb::dict d;
        d["name"] = p.name;
        d["major"] = p.major;
        d["minor"] = p.minor;
        d["total_memory"] = p.total_memory;
        d["multi_processor_count"] = p.multi_processor_count;
        d["max_threads_per_multi_processor"] = p.max_threads_per_multi_processor;
        d["warp_size"] = p.warp_size;
        d["L2_cache_size"] = p.L2_cache_size;
        d["regs_per_multiprocessor"] = p.regs_per_multiprocessor;
        d["is_integrated"] = p.is_integrated;
        d["is_multi_gpu_board"] = p.is_multi_gpu_board;
        return d;
      },
      nb::arg("device") = -1);
  c.def("synchronize", [](int device) {
    nb::gil_scoped_release r;
    cuda::device_synchronize(device, "device_synchronize");
  }, nb::arg("device") = -1);

  nb::class_<cuda::Stream>(c, "Stream")
      .def_prop_ro("device_index", &cuda::Stream::device)
      .def_prop_ro("cuda_stream", [](const cuda::Stream& s) { return uintptr_t(s.handle()); })
      .def_prop_ro("priority", &cuda::Stream::priority)
      .def("query", &cuda::Stream::query)
      .def("synchronize", [](const cuda::Stream& s) {
        nb::gil_scoped_release r;
        s.synchronize("stream_synchronize");
      })
      .def("wait_stream", &cuda::Stream::wait_stream)
      .def("__eq__", [](const cuda::Stream& a, const cuda::Stream& b) { return a == b; })
      .def("__hash__", [](const cuda::Stream& s) { return size_t(s.id()) * 131 + size_t(s.device()); });
  c.def("stream_from_pool", &cuda::stream_from_pool, nb::arg("device") = -1, nb::arg("priority") = 0);
  c.def("current_stream", &cuda::current_stream, nb::arg("device") = -1);
  c.def("default_stream", &cuda::default_stream, nb::arg("device") = -1);
  c.def("set_current_stream", &cuda::set_current_stream);
  c.def("external_stream", [](uintptr_t handle, int device) {
    return cuda::external_stream(reinterpret_cast<cudaStream_t>(handle), cuda::resolve_device(device));
  });
  c.def("priority_range", &cuda::priority_range, nb::arg("device") = -1);

  nb::class_<cuda::Event>(c, "Event")
      .def(nb::init<bool, bool>(), nb::arg("enable_timing") = false, nb::arg("blocking") = false)
      .def("record", &cuda::Event::record)
      .def("wait", &cuda::Event::wait)
      .def("query", &cuda::Event::query)
      .def("synchronize", [](const cuda::Event& e) {
        nb::gil_scoped_release r;
        e.synchronize("event_synchronize");
      })
      .def("elapsed_time", &cuda::Event::elapsed_time)
      .def_prop_ro("recorded", &cuda::Event::recorded)
      .def_prop_ro("device_index", &cuda::Event::device)
      .def_prop_ro("cuda_event", [](const cuda::Event& e) { return uintptr_t(e.handle()); });

  c.def("memory_stats", [](int device) { return stats_dict(stats_of(device)); }, nb::arg("device") = -1);
  c.def("reset_peak_memory_stats", [](int device) {
    device = cuda::resolve_device(device);
    if (auto* a = alloc::cuda_allocator_if_created()) a->reset_peak(device);
  }, nb::arg("device") = -1);
  c.def("reset_accumulated_memory_stats", [](int device) {
    device = cuda::resolve_device(device);
    if (auto* a = alloc::cuda_allocator_if_created()) a->reset_counters(device);
  }, nb::arg("device") = -1);
  c.def("memory_snapshot", &snapshot_list);
  c.def("empty_cache", [] {
    VT_CHECK(cuda::is_available(), "no CUDA GPU is available (", cuda::unavailable_reason(), ")");
    if (auto* a = alloc::cuda_allocator_if_created()) {
      nb::gil_scoped_release r;
      a->empty_cache();
    }
  });
  c.def("allocator_backend", [] {
    alloc::DeviceAllocator* a = alloc::cuda_allocator_if_created();
    return std::string(a ? a->name() : policy::alloc_cuda.value().c_str());
  });
  c.def("record_stream", &record_stream);
  c.def("pin_memory", [](const Tensor& t) {
    VT_CHECK(t.device().is_cpu(), "pin_memory: expected a CPU tensor, got one on ", t.device());
    DimVector sizes(t.sizes());
    Storage st = alloc::pinned_storage(size_t(contiguous_nbytes(t.sizes(), t.dtype())));
    Tensor out(IntrusivePtr<TensorImpl>::make(std::move(st), t.dtype(), sizes, contiguous_strides(sizes), 0));
    ops::copy_(out, t, false);
    return out;
  });
  c.def("is_pinned", [](const Tensor& t) { return t.device().is_cpu() && alloc::is_pinned(t.data_ptr()); });
  c.def("pinned_memory_stats", [] {
    alloc::PinnedStats s = alloc::pinned_stats();
    nb::dict d;
    d["allocated_bytes"] = s.allocated;
    d["reserved_bytes"] = s.reserved;
    d["num_host_alloc"] = s.host_allocs;
    d["num_host_free"] = s.host_frees;
    d["num_cache_hits"] = s.hits;
    return d;
  });
  c.def("sync_ledger", [] {
    nb::dict d;
    for (auto& [site, n] : cuda::sync_ledger()) d[site.c_str()] = n;
    return d;
  });
  c.def("reset_sync_ledger", &cuda::reset_sync_ledger);

#if VT_HAVE_CUBLAS
  c.def("has_cublas", [] { return true; });
#else
  c.def("has_cublas", [] { return false; });
#endif
  c.def("get_allow_tf32", &cuda::allow_tf32_matmul);
  c.def("set_allow_tf32", &cuda::set_allow_tf32_matmul);
  c.def("_exchange_tf32_override", &cuda::exchange_tf32_override);  // Note [TF32 matmul]: a thread's scope
  c.def("graph_pool_handle", &cuda::new_graph_pool_id);
  c.def("is_current_thread_capturing", &cuda::thread_is_capturing);
  nb::class_<cuda::Graph>(c, "Graph")
      .def(nb::init<>())
      .def("capture_begin", &cuda::Graph::capture_begin, nb::arg("pool") = 0)
      .def("capture_end", &cuda::Graph::capture_end)
      .def("replay", [](cuda::Graph& g) {
        nb::gil_scoped_release r;
        // A capture that drew random numbers takes fresh counters from the generator at every replay
        // (Note [Random numbers under capture] in cuda/capture_state.h).
        g.replay([](uint64_t n) {
          uint64_t offset = random::reserve(n);
          return std::make_pair(random::seed(), offset);
        });
      })
      .def_prop_ro("random_counters", &cuda::Graph::random_counters)
      .def("reset", &cuda::Graph::reset)
      .def("pool", &cuda::Graph::pool)
      .def_prop_ro("captured", &cuda::Graph::captured)
      .def_prop_ro("capturing", &cuda::Graph::capturing);
}

#endif  // VT_CUDA

}  // namespace

void bind_cuda(nb::module_& m) {
  nb::module_ c = m.def_submodule("_cuda", "the CUDA backend (devices, streams, events, allocator, sync ledger)");
#if VT_CUDA
  bind_cuda_backend(c);
  m.def("_item", [](const Tensor& t) {
    Scalar s;
    {
      nb::gil_scoped_release r;  // a CUDA read waits for the device
      s = cuda::item(t);
    }
    return scalar_to_python(s);
  });
#else
  c.def("is_built", [] { return false; });
  c.def("is_available", [] { return false; });
  c.def("device_count", [] { return 0; });
  c.def("unavailable_reason", [] { return std::string("vibetensor was built without CUDA"); });
  m.def("_item", [](const Tensor& t) {
    VT_CHECK_VALUE(t.numel() == 1, "item: a Tensor with ", t.numel(), " elements cannot be converted to a Python number");
    VT_CHECK(t.device().is_cpu(), "item: the tensor is on ", t.device(), " but vibetensor was built without CUDA");
    return scalar_to_python(VT_DISPATCH_ALL(t.dtype(), "item", [&]<class T>() -> Scalar {
      T v = *t.data<T>();
      if constexpr (std::is_same_v<T, bool>) return Scalar(v);
      else if constexpr (std::is_integral_v<T>) return Scalar(int64_t(v));
      else return Scalar(double(opmath_t<T>(v)));
    }));
  });
#endif
}

}  // namespace vt::python
