#include "dispatch/autocast.h"
#include "autograd/engine.h"

#include "autograd/engine_threads.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/gil_free_thread.h"
#include "ops/ops.h"
#include "policy/catalogue.h"
#include "probes/counters.h"
#include "probes/instrumented_mutex.h"
#include "probes/scope.h"

namespace vt::autograd {

// Note [Backward engine]
// A backward call builds a GraphTask: dependency counts for every node reachable from the
// roots, an input buffer per node where incoming gradients are summed, and the captures that
// autograd.grad asks for. Nodes run when their count reaches zero. Policies decide:
//   autograd.gate    per_graph: a mutex owned by the graph task, held while it runs, so
//                    independent graphs run concurrently; global: one process-wide mutex held
//                    for the whole backward, serializing every backward in the process (as
//                    VibeTensor's gate does); none: no lock.
//   autograd.workers / autograd.routing: which threads run nodes and route gradients (see
//                    Note [Engine threads]).
// The GIL is handled by the Python binding (autograd.gil). A graph with Python nodes (custom
// Functions) runs on the calling thread when the caller holds the GIL: a worker thread asking
// for the GIL while the caller holds it and waits for the worker would deadlock.
//
// Note [Gate and GIL]
// Under autograd.gil=held a caller enters backward holding the GIL. Waiting for the global gate with it
// would invert the lock order with the gate's holder, whose Python nodes and hooks (DDP's, a custom
// Function's) need the GIL: two threads calling backward at once (the thread ranks of spawn_threads, Note
// [Thread ranks] in vibetensor/distributed/threads.py) would deadlock. So the binding gives the engine
// wait_without_gil, and the wait for the gate runs with the GIL released; once the gate is taken the GIL is
// held again for the whole backward, as the policy says. The wait happens on the calling thread, before the
// graph may go to an engine worker (autograd.workers): a worker holds no GIL to release (releasing one there
// aborts Python 3.12).

namespace {

struct GraphRoot : Node {
  explicit GraphRoot(TensorList g) : grads(std::move(g)) {}
  TensorList apply(TensorList&&) override { return grads; }
  std::string name() const override { return "GraphRoot"; }
  TensorList grads;
};

struct GraphTask {
  std::unordered_map<Node*, int> dependencies;
  std::unordered_map<Node*, TensorList> buffers;
  // autograd.grad: node -> (its gradient input slot, index in `captured`).
  std::unordered_map<Node*, std::vector<std::pair<uint32_t, size_t>>> captures;
  TensorList captured;
  std::vector<bool> captured_set;
  bool keep_graph = false;
  bool create_graph = false;
  bool accumulate = true;
  bool route_on_owner = false;
  bool has_python_nodes = false;
  bool caller_holds_gil = false;  // threads other than the caller must not wait for the GIL
  std::vector<std::shared_ptr<Node>> ready;
};

probes::InstrumentedMutex& global_gate() {
  static probes::InstrumentedMutex* m = new probes::InstrumentedMutex("autograd.gate.global");
  return *m;
}

void compute_dependencies(GraphTask& task, Node* root) {
  std::vector<Node*> stack{root};
  std::unordered_map<Node*, bool> seen{{root, true}};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    task.has_python_nodes |= n->needs_gil();
    for (const Edge& e : n->next_edges) {
      if (!e.valid()) continue;
      task.dependencies[e.fn.get()]++;
      if (!seen[e.fn.get()]) { seen[e.fn.get()] = true; stack.push_back(e.fn.get()); }
    }
  }
}

Tensor zeros_for(const InputMeta& m) { return ops::zeros(m.shape.vec(), m.dtype, m.device); }

// Adds a gradient into the buffer slot of the node behind `edge`; returns true when the node
// became ready.
bool route(GraphTask& task, const Edge& edge, Tensor grad) {
  Node* n = edge.fn.get();
  TensorList& buf = task.buffers[n];
  if (buf.size() < std::max<size_t>(n->input_meta.size(), 1)) buf.resize(std::max<size_t>(n->input_meta.size(), 1));
  Tensor& slot = buf[edge.input_nr];
  if (grad.defined()) slot = slot.defined() ? ops::add(slot, grad, Scalar(1)) : std::move(grad);
  return --task.dependencies[n] == 0;
}

// Whether the node running on this thread belongs to a partial backward (grad(), backward(inputs=...)): set
// around each node's apply, on whichever thread runs it (the caller's or an engine worker's).
thread_local bool t_in_partial_task = false;
struct PartialTaskScope {
  bool saved;
  explicit PartialTaskScope(bool partial) : saved(t_in_partial_task) { t_in_partial_task = partial; }
  ~PartialTaskScope() { t_in_partial_task = saved; }
};

std::atomic<bool> g_anomaly_enabled{false};
std::atomic<bool> g_anomaly_check_nan{false};  // enabled and check_nan

void check_no_nan(const Node& node, const TensorList& outs) {
  for (size_t i = 0; i < outs.size(); ++i) {
    const Tensor& g = outs[i];
    if (!g.defined() || !is_floating(g.dtype()) || g.numel() == 0) continue;
    Tensor count = ops::sum(ops::ne(g, g), std::nullopt, false, DType::Int64);  // nan != nan
    if (!count.device().is_cpu()) count = ops::to_device(count, Device{}, false);
    VT_CHECK(*count.data<int64_t>() == 0, "Function '", node.name(), "' returned nan values in its ", i,
             "th output.");
  }
}

void run_node(GraphTask& task, const std::shared_ptr<Node>& node) {
  VT_PROBE_SCOPE(autograd, fine, probes::any_scope_on(probes::Detail::fine) ? probes::intern_name(node->name()) : "");
  TensorList grads = std::move(task.buffers[node.get()]);
  task.buffers.erase(node.get());
  if (grads.size() < node->input_meta.size()) grads.resize(node->input_meta.size());
  for (const PreHook& h : node->pre_hooks) {  // Note [Tensor hooks]
    if (h.slot >= grads.size() || !grads[h.slot].defined()) continue;
    Tensor r = run_hooks(grads[h.slot], {{h.id, h.fn}});
    grads[h.slot] = std::move(r);
  }

  auto cap = task.captures.find(node.get());
  if (cap != task.captures.end()) {
    for (auto [slot, idx] : cap->second) {
      if (slot < grads.size() && grads[slot].defined()) { task.captured[idx] = grads[slot]; task.captured_set[idx] = true; }
    }
  }
  TensorList outs;
  bool run = !(node->is_accumulate_grad() && !task.accumulate);
  if (run) {
    if (!node->is_accumulate_grad())
      for (size_t i = 0; i < grads.size(); ++i)
        if (!grads[i].defined() && i < node->input_meta.size()) grads[i] = zeros_for(node->input_meta[i]);
    probes::count(probes::Counter::autograd_nodes_executed);
    PartialTaskScope partial(!task.accumulate);  // Note [Partial backward]
    outs = node->apply(std::move(grads));
    if (g_anomaly_check_nan.load(std::memory_order_relaxed)) check_no_nan(*node, outs);  // Note [Anomaly detection]
    if (!task.keep_graph) node->release_variables();
  }
  auto route_all = [&] {
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.valid()) continue;
      Tensor g = i < outs.size() ? std::move(outs[i]) : Tensor();
      if (route(task, e, std::move(g))) task.ready.push_back(e.fn);
    }
  };
  if (task.route_on_owner && task.caller_holds_gil) {
    // Routing adds gradients (a suite op under kernels.scope=all, launched from Python under
    // kernels.launch=python); the owner thread may not take the GIL the waiting caller holds
    // (Note [Suite compiles and the GIL]), or the step deadlocks.
    run_on_owner([&] {
      GilFreeThread gil_free;  // Note [Threads that may not take the GIL]
      route_all();
    });
  } else if (task.route_on_owner) {
    run_on_owner(route_all);
  } else {
    route_all();
  }
}

void execute(GraphTask& task, std::shared_ptr<Node> root) {
  // The formulas record nothing, unless create_graph asks for the gradients' own graph (Note [Double backward]).
  AutoGradMode grad_mode(task.create_graph);
  autocast::Suspend autocast_off;  // Note [Autocast]: backward computes in the forward's dtypes
  task.ready.push_back(std::move(root));
  while (!task.ready.empty()) {
    std::shared_ptr<Node> n = std::move(task.ready.back());
    task.ready.pop_back();
    run_node(task, n);
  }
}

}  // namespace

bool running_partial_backward() { return t_in_partial_task; }

void set_anomaly_mode(bool enabled, bool check_nan) {
  g_anomaly_enabled.store(enabled, std::memory_order_relaxed);
  g_anomaly_check_nan.store(enabled && check_nan, std::memory_order_relaxed);
}
bool anomaly_enabled() { return g_anomaly_enabled.load(std::memory_order_relaxed); }
bool anomaly_check_nan() { return g_anomaly_check_nan.load(std::memory_order_relaxed); }

TensorList run_backward(const TensorList& outputs, const TensorList& grad_outputs, const BackwardOptions& opts) {
  VT_CHECK_VALUE(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "backward: got ", outputs.size(),
                 " tensors and ", grad_outputs.size(), " gradients; expected one gradient per tensor");
  probes::count(probes::Counter::backward_calls);
  VT_PROBE_SCOPE(autograd, coarse, "backward");
  TensorList root_grads;
  std::vector<Edge> root_edges;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    VT_CHECK(out.defined() && out->requires_grad(), "element ", i,
             " of tensors does not require grad and does not have a grad_fn");
    Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!g.defined()) {
      VT_CHECK(out.numel() == 1, "grad can be implicitly created only for scalar outputs (got shape ",
               shape_str(out.sizes()), ")");
      g = ops::ones(out.sizes().size() ? std::vector<int64_t>(out.sizes().begin(), out.sizes().end()) : std::vector<int64_t>{},
                    out.dtype(), out.device());
    } else {
      VT_CHECK_VALUE(g.sizes().size() == out.sizes().size() && std::equal(g.sizes().begin(), g.sizes().end(), out.sizes().begin()),
                     "backward: gradient of shape ", shape_str(g.sizes()), " does not match output shape ",
                     shape_str(out.sizes()));
    }
    root_grads.push_back(std::move(g));
    root_edges.push_back(gradient_edge(out));
  }

  GraphTask task;
  task.keep_graph = opts.keep_graph;
  task.create_graph = opts.create_graph;
  task.accumulate = opts.inputs.empty();
  auto root = std::make_shared<GraphRoot>(std::move(root_grads));
  root->next_edges = std::move(root_edges);
  for (size_t i = 0; i < root->grads.size(); ++i) root->input_meta.push_back({});

  if (!opts.inputs.empty()) {
    task.captured.resize(opts.inputs.size());
    task.captured_set.assign(opts.inputs.size(), false);
    for (size_t i = 0; i < opts.inputs.size(); ++i) {
      const Tensor& in = opts.inputs[i];
      VT_CHECK(in.defined() && in->requires_grad(), "autograd.grad: input ", i, " does not require grad");
      Edge e = gradient_edge(in);
      task.captures[e.fn.get()].push_back({e.input_nr, i});
    }
  }
  compute_dependencies(task, root.get());

  task.route_on_owner = policy::autograd_routing.get() == policy::AutogradRouting::owner;
  task.caller_holds_gil = opts.caller_holds_gil;

  using policy::AutogradGate;
  const AutogradGate gate = policy::autograd_gate.get();
  // The global gate is taken here, on the calling thread, whichever thread then runs the graph: the
  // wait releases the caller's GIL (Note [Gate and GIL]), which a worker thread could not do.
  std::unique_lock<probes::InstrumentedMutex> global_lock;
  if (gate == AutogradGate::global) {
    if (opts.wait_without_gil) opts.wait_without_gil([] { global_gate().lock(); });
    else global_gate().lock();
    global_lock = std::unique_lock<probes::InstrumentedMutex>(global_gate(), std::adopt_lock);
  }
  auto run_graph = [&] {
    if (gate == AutogradGate::global) {
      execute(task, root);
    } else if (gate == AutogradGate::per_graph) {
      probes::InstrumentedMutex graph_gate("autograd.gate.per_graph", /*ephemeral=*/true);
      std::lock_guard<probes::InstrumentedMutex> g(graph_gate);
      execute(task, root);
    } else {
      execute(task, root);
    }
  };
  if (task.has_python_nodes && opts.caller_holds_gil) {
    run_graph();
  } else if (opts.caller_holds_gil) {
    // Another thread may not take the GIL the caller holds: suite compiles wait for the caller
    // (Note [Suite compiles and the GIL]).
    std::thread::id caller = std::this_thread::get_id();
    run_on_worker([&] {
      if (std::this_thread::get_id() == caller) return run_graph();
      GilFreeThread gil_free;  // Note [Threads that may not take the GIL]
      run_graph();
    });
  } else {
    run_on_worker(run_graph);
  }

  if (opts.inputs.empty()) return {};
  for (size_t i = 0; i < opts.inputs.size(); ++i)
    VT_CHECK(task.captured_set[i] || opts.allow_unused, "autograd.grad: one of the differentiated tensors (input ", i,
             ") appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.");
  return task.captured;
}

}  // namespace vt::autograd
