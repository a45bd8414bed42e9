// Probes exposed to Python (vibetensor/probes): lock statistics and named locks for Python code,
// counters, the trace rings, NVTX ranges, the native CUPTI collector.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <thread>

#include "probes/counters.h"
#include "probes/cupti_activity.h"
#include "probes/instrumented_mutex.h"
#include "probes/nvtx_log.h"
#include "probes/trace_ring.h"
#include "python/bindings.h"

namespace vt::python {

namespace {

// A named InstrumentedMutex for Python code (the kernel cache's module-global lock): its
// statistics appear in vt.probes.locks() under its name. acquire() releases the GIL while it
// waits, so a holder that needs the GIL can finish; release() from a thread that does not hold
// it is an error rather than undefined behaviour.
class PyInstrumentedLock {
 public:
  explicit PyInstrumentedLock(const std::string& name) : m_(std::make_unique<probes::InstrumentedMutex>(name)) {}
  void acquire() {
    {
      nb::gil_scoped_release r;
      m_->lock();
    }
    owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  }
  void release() {
    VT_CHECK(owner_.load(std::memory_order_relaxed) == std::this_thread::get_id(), "InstrumentedLock '",
             m_->name(), "' released by a thread that does not hold it: release() must follow acquire() on the same thread");
    owner_.store(std::thread::id(), std::memory_order_relaxed);
    m_->unlock();
  }
  bool held_by_me() const { return owner_.load(std::memory_order_relaxed) == std::this_thread::get_id(); }
  const std::string& name() const { return m_->name(); }

 private:
  std::unique_ptr<probes::InstrumentedMutex> m_;
  std::atomic<std::thread::id> owner_{};
};

probes::Counter counter_by_name(const std::string& name) {
  std::string known;
  for (int i = 0; i < int(probes::Counter::kNumCounters); ++i) {
    if (name == probes::counter_name(probes::Counter(i))) return probes::Counter(i);
    known += (i ? ", " : "") + std::string(probes::counter_name(probes::Counter(i)));
  }
  VT_CHECK_VALUE(false, "unknown probe counter '", name, "': expected one of ", known);
  return probes::Counter::kNumCounters;
}

// What the native CUPTI collector recorded, in the shapes of the cupti-python backend's raw
// records (KernelActivity._buffer_completed in probes/cupti.py): one Python str per distinct name.
nb::list cupti_records(const probes::cupti::Activities& a) {
  std::vector<nb::object> names;
  names.reserve(a.names.size());
  for (const auto& n : a.names) {  // "replace": a name that is not UTF-8 must not lose the whole session
    names.push_back(nb::steal(PyUnicode_DecodeUTF8(n.data(), Py_ssize_t(n.size()), "replace")));
    if (!names.back()) throw nb::python_error();
  }
  const nb::str kinds[] = {nb::str("kernel"), nb::str("memcpy"), nb::str("memset")};
  const nb::str runtime("runtime");
  const nb::tuple none = nb::make_tuple();
  nb::list out;
  for (const auto& g : a.gpu) {
    const bool kernel = g.kind == probes::cupti::GpuKind::kernel;
    out.append(nb::make_tuple(kinds[int(g.kind)], names[g.name], g.start, g.end, g.device, g.stream, g.correlation,
                              g.bytes, kernel ? nb::make_tuple(g.grid[0], g.grid[1], g.grid[2]) : none,
                              kernel ? nb::make_tuple(g.block[0], g.block[1], g.block[2]) : none));
  }
  for (const auto& r : a.runtime)
    out.append(nb::make_tuple(runtime, r.cbid, r.start, r.end, r.thread_id, r.correlation));
  return out;
}

}  // namespace

void bind_probes(nb::module_& m) {
  m.def("_lock_stats", [] {
    nb::list out;
    for (auto& s : probes::lock_stats()) {
      nb::dict d;
      d["name"] = s.name;
      d["acquisitions"] = s.acquisitions;
      d["contentions"] = s.contentions;
      d["wait_total_ns"] = s.wait_total_ns;
      d["wait_max_ns"] = s.wait_max_ns;
      d["hold_total_ns"] = s.hold_total_ns;
      d["hold_max_ns"] = s.hold_max_ns;
      out.append(d);
    }
    return out;
  });
  m.def("_reset_lock_stats", &probes::reset_lock_stats);
  nb::class_<PyInstrumentedLock>(m, "_InstrumentedLock")
      .def(nb::init<const std::string&>(), nb::arg("name"))
      .def("acquire", &PyInstrumentedLock::acquire)
      .def("release", &PyInstrumentedLock::release)
      .def("held_by_me", &PyInstrumentedLock::held_by_me)
      .def_prop_ro("name", &PyInstrumentedLock::name)
      .def("__enter__", [](PyInstrumentedLock& l) { l.acquire(); return &l; }, nb::rv_policy::reference)
      .def("__exit__", [](PyInstrumentedLock& l, nb::handle, nb::handle, nb::handle) { l.release(); },
           nb::arg().none(), nb::arg().none(), nb::arg().none());
  // Counts an event from Python (the kernel cache's hits, misses and compiles) when probes.counters=on.
  m.def("_count", [](const std::string& name, uint64_t n) { probes::count(counter_by_name(name), n); },
        nb::arg("name"), nb::arg("n") = 1);
  m.def("_counters", &probes::counters_snapshot);
  m.def("_reset_counters", &probes::reset_counters);
  m.def("_probes_compiled", [] {
#if VT_PROBES
    return true;
#else
    return false;
#endif
  });

  m.def("_trace_drain", [] {
    nb::list out;
    for (const auto& e : probes::drain_trace_events())
      out.append(nb::make_tuple(e.begin_ns, e.end_ns, e.name, probes::category_name(e.cat), e.tid));
    return out;
  });
  m.def("_trace_dropped", &probes::dropped_trace_events);
  m.def("_trace_clock_ns", &probes::trace_clock_ns);
  // A Python range (step, forward, ...) that began at begin_ns (trace clock) and ends now.
  m.def("_trace_record", [](const std::string& name, uint64_t begin_ns) {
    probes::trace_end(probes::Category::python, probes::intern_name(name), begin_ns);
  });
  m.def("_nvtx_compiled", &probes::nvtx_compiled);
  m.def("_nvtx_push", [](const std::string& name) { probes::nvtx_push(probes::Category::python, probes::intern_name(name)); });
  m.def("_nvtx_pop", &probes::nvtx_pop);
  // The names of the NVTX ranges pushed between start and stop (Note [NVTX range log]).
  m.def("_nvtx_log_start", &probes::nvtx_log_start);
  m.def("_nvtx_log_stop", &probes::nvtx_log_stop);

  // The native CUPTI collector, wrapped by vibetensor.probes.cupti (Note [Native CUPTI collector]):
  // _cupti_native_status() is None when built, else why not. The GIL is released around the calls
  // that enable, disable or flush: they block on CUPTI's locks and thread.
  m.def("_cupti_native_status", &probes::cupti::not_built_reason);
  m.def("_cupti_native_open", &probes::cupti::open, nb::arg("path"));
  m.def("_cupti_native_start", [](bool runtime, size_t buffer_bytes) {
    nb::gil_scoped_release no_gil;
    probes::cupti::start(runtime, buffer_bytes);
  }, nb::arg("runtime"), nb::arg("buffer_bytes"));
  m.def("_cupti_native_stop", [] {
    probes::cupti::Activities a;
    {
      nb::gil_scoped_release no_gil;
      a = probes::cupti::stop();
    }
    return cupti_records(a);
  });
  m.def("_cupti_native_timestamp", &probes::cupti::timestamp);
  m.def("_cupti_native_dropped", &probes::cupti::dropped);
  m.def("_cupti_native_callback_name", &probes::cupti::callback_name, nb::arg("cbid"));
}

}  // namespace vt::python
