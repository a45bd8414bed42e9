// tensor.register_hook / RemovableHandle.remove / tensor.retain_grad (Note [Tensor hooks] in autograd/node.h).
#include <atomic>
#include <mutex>
#include <unordered_set>

#include "core/gil_free_thread.h"
#include "autograd/node.h"
#include "ops/ops.h"
#include "python/bindings.h"
#include "python/thread_gil.h"

namespace vt::python {

namespace {

// A Python hook's callable. Its holder may die on an engine thread (with the node or the tensor), so the
// destructor takes the GIL; at interpreter exit release_python_hooks drops every live callable first, as
// for custom Functions (Note [Python nodes at exit]).
struct PyHook {
  nb::object fn;
  PyHook();
  ~PyHook();
};

std::mutex& py_hooks_mutex() {
  static std::mutex* m = new std::mutex();
  return *m;
}
std::unordered_set<PyHook*>& live_py_hooks() {
  static auto* s = new std::unordered_set<PyHook*>();
  return *s;
}

PyHook::PyHook() {
  std::lock_guard<std::mutex> l(py_hooks_mutex());
  live_py_hooks().insert(this);
}

PyHook::~PyHook() {
  {
    std::lock_guard<std::mutex> l(py_hooks_mutex());
    live_py_hooks().erase(this);
  }
  if (!fn.is_valid()) return;
  if (gil_forbidden()) {  // Note [Threads that may not take the GIL]
    PyObject* o = fn.release().ptr();
    defer_to_gil_holder([o] { Py_DECREF(o); });
    return;
  }
  EngineGil g;  // Note [Engine threads and Python thread states]
  fn.reset();
}

GradHook python_hook(nb::object fn) {
  auto hook = std::make_shared<PyHook>();
  hook->fn = std::move(fn);
  return [hook](const Tensor& grad) -> Tensor {
    EngineGil g;  // Note [Engine threads and Python thread states]
    VT_CHECK(hook->fn.is_valid(), "a tensor hook was called after interpreter shutdown began");
    nb::object r = hook->fn(nb::cast(grad));
    return r.is_none() ? Tensor() : nb::cast<Tensor>(r);
  };
}

std::atomic<int64_t> next_hook_id{0};

}  // namespace

size_t release_python_hooks() {
  std::vector<nb::object> fns;
  {
    std::lock_guard<std::mutex> l(py_hooks_mutex());
    for (PyHook* h : live_py_hooks()) fns.push_back(std::move(h->fn));
  }
  return fns.size();  // the callables die here, with the GIL held and the registry unlocked
}

void bind_hooks(nb::module_& m) {
  m.def("_register_hook", [](Tensor& t, nb::object fn) -> int64_t {
    VT_CHECK(t->requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
    VT_CHECK_TYPE(PyCallable_Check(fn.ptr()), "register_hook: expected a callable, got ",
                  nb::cast<std::string>(nb::str(fn.type())));
    int64_t id = next_hook_id.fetch_add(1);
    if (t->is_leaf()) {
      t->ensure_autograd_meta().hooks.push_back({id, python_hook(std::move(fn))});
    } else {
      AutogradMeta& meta = *t->autograd_meta();
      meta.grad_fn->pre_hooks.push_back({meta.output_nr, id, python_hook(std::move(fn)), true});
    }
    return id;
  });
  m.def("_remove_hook", [](Tensor& t, int64_t id) {
    AutogradMeta* meta = t->autograd_meta();
    if (!meta) return;
    std::erase_if(meta->hooks, [id](const auto& h) { return h.first == id; });
    if (meta->grad_fn) std::erase_if(meta->grad_fn->pre_hooks, [id](const autograd::PreHook& h) { return h.id == id; });
  });
  m.def("_retain_grad", [](Tensor& t) {
    VT_CHECK(t->requires_grad(), "can't retain_grad on Tensor that has requires_grad=False");
    AutogradMeta& meta = *t->autograd_meta();
    if (t->is_leaf() || meta.retains_grad) return;  // a leaf keeps its .grad anyway
    auto slot = std::make_shared<Tensor>();
    meta.retains_grad = true;
    meta.retained_grad = slot;
    GradHook keep = [slot](const Tensor& g) -> Tensor {
      *slot = slot->defined() ? ops::add(*slot, g, Scalar(1)) : ops::clone(g);
      return Tensor();
    };
    meta.grad_fn->pre_hooks.push_back({meta.output_nr, -1, std::move(keep), false});
  });
  m.def("_release_python_hooks", &release_python_hooks);
}

}  // namespace vt::python
