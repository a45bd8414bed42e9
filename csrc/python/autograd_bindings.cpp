// Backward, autograd.grad, graph inspection and custom Python Functions.
#include <unordered_set>

#include "core/gil_free_thread.h"
#include "autograd/engine.h"
#include "policy/catalogue.h"
#include "probes/counters.h"
#include "probes/instrumented_mutex.h"
#include "ops/ops.h"
#include "ops/suite/spec_table.h"
#include "python/bindings.h"
#include "python/thread_gil.h"

namespace vt::python {

namespace {

// Note [Python nodes]
// A custom vt.autograd.Function records a PyNode: its apply() takes the GIL and calls the
// Python backward. Under autograd.gil=released the engine runs without the GIL, so this is the
// only place backward re-enters Python.
struct PyNode;

// Note [Python nodes at exit]
// A PyNode's backward_fn closes over its Function class, whose methods hold their module's
// globals. A tensor kept in those globals owns, through C++, the node that leads back to them: a
// cycle Python's GC cannot see, so at interpreter exit the objects on it are never freed and
// nanobind reports them as leaked. vibetensor.autograd registers an atexit hook
// (_release_python_functions) that drops every live PyNode's backward_fn while the interpreter
// still runs; no backward can run after that point. The registry's lock is never held while
// waiting for the GIL (the destructor leaves the registry before taking the GIL), so the two
// cannot deadlock.
probes::InstrumentedMutex& py_nodes_mutex() {
  static probes::InstrumentedMutex* m = new probes::InstrumentedMutex("autograd.py_nodes");
  return *m;
}
std::unordered_set<PyNode*>& live_py_nodes() {
  static auto* s = new std::unordered_set<PyNode*>();
  return *s;
}

struct PyNode : autograd::Node {
  nb::object backward_fn;  // called as backward_fn(*grads) -> tuple of grads (or None)
  std::string fn_name;
  PyNode() {
    std::lock_guard<probes::InstrumentedMutex> l(py_nodes_mutex());
    live_py_nodes().insert(this);
  }
  ~PyNode() override {
    {
      std::lock_guard<probes::InstrumentedMutex> l(py_nodes_mutex());
      live_py_nodes().erase(this);
    }
    if (gil_forbidden() && backward_fn.is_valid()) {  // Note [Threads that may not take the GIL]
      PyObject* o = backward_fn.release().ptr();
      defer_to_gil_holder([o] { Py_DECREF(o); });
      return;
    }
    EngineGil g;  // Note [Engine threads and Python thread states]
    backward_fn.reset();
  }
  std::string name() const override { return fn_name; }
  bool needs_gil() const override { return true; }
  void release_variables() override {}
  TensorList apply(TensorList&& grads) override {
    EngineGil g;  // Note [Engine threads and Python thread states]
    VT_CHECK(backward_fn.is_valid(), "the backward of custom Function ", fn_name,
             " was called after interpreter shutdown began (its Python function was released at exit)");
    nb::list py_grads;
    for (auto& t : grads) py_grads.append(t.defined() ? nb::cast(t) : nb::none());
    nb::object res = backward_fn(*py_grads);
    TensorList out;
    if (!nb::isinstance<nb::tuple>(res) && !nb::isinstance<nb::list>(res)) res = nb::make_tuple(res);
    for (nb::handle h : res) out.push_back(h.is_none() ? Tensor() : nb::cast<Tensor>(h));
    VT_CHECK(out.size() >= next_edges.size(), "function ", fn_name, " returned an incorrect number of gradients (expected ",
             next_edges.size(), ", got ", out.size(), ")");
    out.resize(next_edges.size());
    return out;
  }
};

struct NodeRef {
  std::shared_ptr<autograd::Node> node;
};

TensorList to_tensor_list(nb::handle seq) {
  TensorList l;
  for (nb::handle h : nb::borrow<nb::sequence>(seq)) l.push_back(h.is_none() ? Tensor() : nb::cast<Tensor>(h));
  return l;
}

// Note [GIL during backward]
// autograd.gil=released (torch's behaviour) drops the GIL while the C++ engine runs backward, so
// other Python threads run meanwhile. held (VibeTensor) keeps it for the whole backward: every
// other Python thread waits, and the time is counted as gil_held_ns. The engine is told that the
// caller holds the GIL (caller_holds_gil) and then runs a graph with Python nodes on the calling
// thread (Note [Backward engine]).
TensorList run_engine(const TensorList& outs, const TensorList& grads, autograd::BackwardOptions& opts) {
  if (policy::autograd_gil.get() == policy::AutogradGil::released) {
    nb::gil_scoped_release release;
    return autograd::run_backward(outs, grads, opts);
  }
  opts.caller_holds_gil = true;
  opts.wait_without_gil = [](const std::function<void()>& wait) {  // Note [Gate and GIL] in engine.cpp
    nb::gil_scoped_release release;  // the engine calls this on the calling thread, which holds the GIL
    wait();
  };
  // Releases what the engine's threads could not (Note [Threads that may not take the GIL]), also when
  // backward raises.
  struct ReleaseDeferred {
    ~ReleaseDeferred() { run_deferred_gil_work(); }
  } release_deferred;
  uint64_t t0 = probes::counters_on() ? probes::now_ns() : 0;
  TensorList r = autograd::run_backward(outs, grads, opts);
  if (t0) probes::count(probes::Counter::gil_held_ns, probes::now_ns() - t0);
  // Compiles the suite kernels the engine's threads could not (Note [Suite compiles and the GIL]).
  if (suite::pending_count()) [[unlikely]] suite::compile_pending();
  return r;
}

}  // namespace

void bind_autograd(nb::module_& m) {
  nb::class_<NodeRef>(m, "Node")
      .def("name", [](const NodeRef& n) { return n.node->name(); })
      .def_prop_ro("next_functions", [](const NodeRef& n) {
        nb::list l;
        for (auto& e : n.node->next_edges)
          l.append(nb::make_tuple(e.fn ? nb::cast(NodeRef{e.fn}) : nb::none(), e.input_nr));
        return nb::tuple(l);
      })
      // The parts a backward driven from Python needs (autograd.executor=python, Note [Python
      // backward executor] in vibetensor/autograd/python_executor.py).
      .def("apply", [](const NodeRef& n, nb::handle grads) {
        TensorList in;
        for (nb::handle g : grads) in.push_back(g.is_none() ? Tensor() : nb::cast<Tensor>(g));
        TensorList out;
        if (n.node->needs_gil()) {
          out = n.node->apply(std::move(in));
        } else {
          nb::gil_scoped_release release;
          out = n.node->apply(std::move(in));
        }
        nb::list l;
        for (auto& t : out) l.append(t.defined() ? nb::cast(t) : nb::none());
        return nb::tuple(l);
      })
      .def_prop_ro("num_inputs", [](const NodeRef& n) { return n.node->input_meta.size(); })
      .def("zeros_for", [](const NodeRef& n, size_t i) {
        VT_CHECK_INDEX(i < n.node->input_meta.size(), n.node->name(), " has ", n.node->input_meta.size(),
                       " gradient inputs; asked for ", i);
        const autograd::InputMeta& m = n.node->input_meta[i];
        return ops::zeros(m.shape.vec(), m.dtype, m.device);
      })
      .def("release_variables", [](const NodeRef& n) { n.node->release_variables(); })
      .def_prop_ro("is_accumulate_grad", [](const NodeRef& n) { return n.node->is_accumulate_grad(); })
      .def("__repr__", [](const NodeRef& n) { return "<" + n.node->name() + ">"; })
      .def("__eq__", [](const NodeRef& a, const NodeRef& b) { return a.node == b.node; })
      .def("__hash__", [](const NodeRef& n) { return reinterpret_cast<uintptr_t>(n.node.get()); });

  nb::class_<Tensor> t = nb::borrow<nb::class_<Tensor>>(m.attr("Tensor"));
  t.def_prop_ro("grad_fn", [](const Tensor& s) -> nb::object {
    const auto& fn = s->grad_fn();
    return fn ? nb::cast(NodeRef{fn}) : nb::none();
  });

  // The edge a gradient of `t` enters the graph by: its grad_fn, or a leaf's accumulator.
  m.def("_gradient_edge", [](const Tensor& t) -> nb::object {
    autograd::Edge e = autograd::gradient_edge(t);
    if (!e.fn) return nb::none();
    return nb::make_tuple(NodeRef{e.fn}, e.input_nr);
  });
  m.def("_backward", [](nb::handle tensors, nb::handle grads, bool retain_graph, bool create_graph) {
    autograd::BackwardOptions opts;
    opts.keep_graph = retain_graph;
    opts.create_graph = create_graph;
    run_engine(to_tensor_list(tensors), to_tensor_list(grads), opts);
  }, nb::arg("tensors"), nb::arg("grads"), nb::arg("retain_graph"), nb::arg("create_graph") = false);
  m.def("_running_partial_backward", &autograd::running_partial_backward);  // Note [Partial backward]
  // Note [Anomaly detection]
  m.def("_set_anomaly_mode", &autograd::set_anomaly_mode);
  m.def("_anomaly_enabled", &autograd::anomaly_enabled);
  m.def("_anomaly_check_nan", &autograd::anomaly_check_nan);
  m.def("_grad", [](nb::handle outputs, nb::handle inputs, nb::handle grads, bool retain_graph, bool allow_unused,
                    bool create_graph) {
    autograd::BackwardOptions opts;
    opts.keep_graph = retain_graph;
    opts.create_graph = create_graph;
    opts.inputs = to_tensor_list(inputs);
    opts.allow_unused = allow_unused;
    TensorList r = run_engine(to_tensor_list(outputs), to_tensor_list(grads), opts);
    nb::list out;
    for (auto& g : r) out.append(g.defined() ? nb::cast(g) : nb::none());
    return nb::tuple(out);
  }, nb::arg("outputs"), nb::arg("inputs"), nb::arg("grads"), nb::arg("retain_graph"), nb::arg("allow_unused"),
     nb::arg("create_graph") = false);

  // Note [Python nodes at exit]: called from an atexit hook, with the GIL held.
  m.def("_release_python_functions", []() {
    std::vector<nb::object> fns;
    {
      std::lock_guard<probes::InstrumentedMutex> l(py_nodes_mutex());
      for (PyNode* n : live_py_nodes()) fns.push_back(std::move(n->backward_fn));
    }
    return fns.size();  // the closures die here, with the GIL held and the registry unlocked
  });

  // Records a custom Function application: outputs get a PyNode whose edges lead to inputs.
  m.def("_record_function", [](nb::object backward_fn, std::string name, nb::handle inputs, nb::handle outputs) {
    TensorList ins = to_tensor_list(inputs);
    TensorList outs = to_tensor_list(outputs);
    auto node = std::make_shared<PyNode>();
    node->backward_fn = std::move(backward_fn);
    node->fn_name = std::move(name);
    node->next_edges = autograd::collect_next_edges(ins);
    for (auto& o : outs) VT_CHECK(o.defined(), "custom Function outputs must be tensors");
    autograd::set_history(node, outs);
  });
}

}  // namespace vt::python
