// The Tensor class, dtype and device; arithmetic operators, which take the ops' one route from
// Python (Note [One route from Python]) with their two operands converted directly.
#include <nanobind/stl/tuple.h>

#include <atomic>

#include "autograd/node.h"
#include "ops/ops.h"
#include "python/bindings.h"
#include "python/op_route.h"

namespace vt::python {

bool operand_from_python(nb::handle h, Tensor& out) {
  if (nb::isinstance<Tensor>(h)) { out = nb::cast<const Tensor&>(h); return true; }
  PyObject* o = h.ptr();
  if (PyBool_Check(o)) { out = ops::wrap_scalar(Scalar(o == Py_True)); return true; }
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) return false;
    out = ops::wrap_scalar(Scalar(int64_t(v)));
    return true;
  }
  if (PyFloat_Check(o)) { out = ops::wrap_scalar(Scalar(PyFloat_AS_DOUBLE(o))); return true; }
  return false;
}

namespace {

nb::tuple shape_tuple(IntArrayRef s) {
  nb::list l;
  for (int64_t v : s) l.append(v);
  return nb::tuple(l);
}

// Note [Size objects]
// .shape and .size() return vibetensor.Size, a tuple subclass written in Python (vibetensor/_size.py) and
// handed over once at import by _set_size_type. The tuple is allocated as that type and filled here, with
// no call into Python; before the handover (or after a failed import) it is a plain tuple.
std::atomic<PyTypeObject*> g_size_type{nullptr};

nb::object size_object(IntArrayRef s) {
  PyTypeObject* tp = g_size_type.load(std::memory_order_acquire);
  Py_ssize_t n = Py_ssize_t(s.size());
  PyObject* t = tp ? tp->tp_alloc(tp, n) : PyTuple_New(n);
  if (!t) throw nb::python_error();
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* v = PyLong_FromLongLong(s[size_t(i)]);
    if (!v) {
      Py_DECREF(t);
      throw nb::python_error();
    }
    PyTuple_SET_ITEM(t, i, v);
  }
  return nb::steal(t);
}

// Binary operator: Tensor op (Tensor | number); NotImplemented for other types so Python can
// try the reflected operator.
template <Tensor (*F)(const Tensor&, const Tensor&)>
nb::object binop(const Tensor& self, nb::handle other) {
  Tensor o;
  if (!operand_from_python(other, o)) return nb::borrow(Py_NotImplemented);
  return nb::cast(F(self, o));
}
template <Tensor (*F)(const Tensor&, const Tensor&)>
nb::object rbinop(const Tensor& self, nb::handle other) {
  Tensor o;
  if (!operand_from_python(other, o)) return nb::borrow(Py_NotImplemented);
  return nb::cast(F(o, self));
}
template <Tensor (*F)(const Tensor&, const Tensor&)>
nb::object ibinop(const Tensor& self, nb::handle other) {
  Tensor o;
  if (!operand_from_python(other, o)) return nb::borrow(Py_NotImplemented);
  F(self, o);
  return nb::cast(self);
}

// A binary catalogue op through the route (the GIL is the route's concern); add and sub with alpha = 1.
template <const auto& Op> Tensor routed(const Tensor& a, const Tensor& b) { return route(Op, a, b); }
template <const auto& Op> Tensor routed_alpha1(const Tensor& a, const Tensor& b) {
  return route(Op, a, b, Scalar(int64_t(1)));
}

}  // namespace

void bind_tensor(nb::module_& m) {
  nb::enum_<DType>(m, "dtype")
      .value("float32", DType::Float32)
      .value("float64", DType::Float64)
      .value("float16", DType::Float16)
      .value("bfloat16", DType::BFloat16)
      .value("int64", DType::Int64)
      .value("int32", DType::Int32)
      .value("bool", DType::Bool);
  m.def("_dtype_itemsize", [](DType d) { return itemsize(d); });
  m.def("_dtype_is_floating", [](DType d) { return is_floating(d); });
  m.def("promote_types", &promote_types);
  // Note [Default dtype]; vibetensor.set_default_dtype checks that the dtype is a floating one.
  m.def("_get_default_dtype", &default_float_dtype);
  m.def("_set_default_dtype", &set_default_float_dtype);

  nb::class_<Device>(m, "device")
      .def("__init__", [](Device* d, const std::string& s) { new (d) Device(Device::parse(s)); })
      .def("__init__", [](Device* d, const std::string& type, int index) {
        Device p = Device::parse(type);
        VT_CHECK_VALUE(p.is_cuda() || index == 0, "device: the cpu device has only index 0, got ", index);
        p.index = int8_t(index);
        new (d) Device(p);
      })
      .def_prop_ro("type", [](const Device& d) { return d.is_cpu() ? "cpu" : "cuda"; })
      .def_prop_ro("index", [](const Device& d) -> nb::object { return d.is_cpu() ? nb::none() : nb::cast(int(d.index)); })
      .def("__str__", &Device::str)
      .def("__repr__", [](const Device& d) {
        return d.is_cpu() ? std::string("device(type='cpu')") : "device(type='cuda', index=" + std::to_string(d.index) + ")";
      })
      .def("__eq__", [](const Device& a, nb::handle b) {
        if (nb::isinstance<Device>(b)) return a == nb::cast<Device>(b);
        if (nb::isinstance<nb::str>(b)) return a == Device::parse(nb::cast<std::string>(b));
        return false;
      })
      .def("__hash__", [](const Device& d) { return int(d.type) * 64 + d.index; });

  m.def("_set_size_type", [](nb::handle type) {
    VT_CHECK_TYPE(PyType_Check(type.ptr()) && PyType_IsSubtype((PyTypeObject*)type.ptr(), &PyTuple_Type),
                  "_set_size_type: expected a subclass of tuple");
    type.inc_ref();  // kept for the life of the process
    g_size_type.store((PyTypeObject*)type.ptr(), std::memory_order_release);
  });

  nb::class_<Tensor> t(m, "Tensor", nb::dynamic_attr());
  t.def(nb::init<const Tensor&>(), "Shares the other tensor's data (as Parameter(t) does)")
      .def_prop_ro("shape", [](const Tensor& s) { return size_object(s.sizes()); })
      .def_prop_ro("dtype", &Tensor::dtype)
      .def_prop_ro("device", &Tensor::device)
      .def_prop_ro("ndim", &Tensor::dim)
      .def_prop_ro("is_cuda", [](const Tensor& s) { return s.device().is_cuda(); })
      .def_prop_ro("is_leaf", [](const Tensor& s) { return s->is_leaf(); })
      .def_prop_ro("_version", [](const Tensor& s) { return s->version(); })
      .def_prop_ro("_is_wrapped_number", [](const Tensor& s) { return s->is_wrapped_number; })
      .def("dim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("element_size", [](const Tensor& s) { return itemsize(s.dtype()); })
      .def("stride", [](const Tensor& s, std::optional<int64_t> d) -> nb::object {
        if (d) return nb::cast(s.stride(*d));
        return shape_tuple(s.strides());
      }, nb::arg("dim") = nb::none())
      .def("size", [](const Tensor& s, std::optional<int64_t> d) -> nb::object {
        if (d) return nb::cast(s.size(*d));
        return size_object(s.sizes());
      }, nb::arg("dim") = nb::none())
      .def("storage_offset", [](const Tensor& s) { return s->offset(); })
      .def("data_ptr", [](const Tensor& s) { return reinterpret_cast<uintptr_t>(s.data_ptr()); })
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("_storage_id", [](const Tensor& s) { return reinterpret_cast<uintptr_t>(s->storage().get()); })
      .def("_storage_nbytes", [](const Tensor& s) { return s->storage()->nbytes(); })
      .def_prop_rw("requires_grad", &Tensor::requires_grad, [](Tensor& s, bool r) {
        if (!r && !s->is_leaf())
          VT_ERROR("you can only change requires_grad flags of leaf variables. If you want to use a computed variable "
                   "in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
        VT_CHECK(!r || is_floating(s.dtype()), "only Tensors of floating point dtype can require gradients (got ", s.dtype(), ")");
        s->ensure_autograd_meta().requires_grad = r;
      })
      .def_prop_rw("grad", [](const Tensor& s) -> nb::object {
        AutogradMeta* m = s->autograd_meta();
        const Tensor* g = !m ? nullptr : m->retained_grad ? m->retained_grad.get() : &m->grad;  // Note [Tensor hooks]
        if (!g || !g->defined()) return nb::none();
        return nb::cast(*g);
      }, [](Tensor& s, std::optional<Tensor> g) {
        if (g) {
          VT_CHECK_VALUE(DimVector(g->sizes()) == DimVector(s.sizes()), "assigned grad has shape ", shape_str(g->sizes()),
                         " but the tensor has shape ", shape_str(s.sizes()));
          VT_CHECK_TYPE(g->dtype() == s.dtype(), "assigned grad has dtype ", g->dtype(), " but the tensor has dtype ", s.dtype());
          VT_CHECK(g->device() == s.device(), "assigned grad is on ", g->device(), " but the tensor is on ", s.device());
        }
        AutogradMeta& m = s->ensure_autograd_meta();
        (m.retained_grad ? *m.retained_grad : m.grad) = g ? *g : Tensor();
      }, nb::arg("value").none())
      .def_prop_ro("retains_grad", [](const Tensor& s) { return s->autograd_meta() && s->autograd_meta()->retains_grad; })
      .def("detach", [](const Tensor& s) { return make_view(s, s.sizes(), s.strides(), s->offset()); })
      .def("_is_same", [](const Tensor& a, const Tensor& b) { return a.is_same(b); })
      .def("__add__", binop<routed_alpha1<catalogue::add>>).def("__radd__", rbinop<routed_alpha1<catalogue::add>>).def("__iadd__", ibinop<routed_alpha1<catalogue::add_>>)
      .def("__sub__", binop<routed_alpha1<catalogue::sub>>).def("__rsub__", rbinop<routed_alpha1<catalogue::sub>>).def("__isub__", ibinop<routed_alpha1<catalogue::sub_>>)
      .def("__mul__", binop<routed<catalogue::mul>>).def("__rmul__", rbinop<routed<catalogue::mul>>).def("__imul__", ibinop<routed<catalogue::mul_>>)
      .def("__truediv__", binop<routed<catalogue::div>>).def("__rtruediv__", rbinop<routed<catalogue::div>>).def("__itruediv__", ibinop<routed<catalogue::div_>>)
      .def("__pow__", binop<routed<catalogue::pow>>).def("__rpow__", rbinop<routed<catalogue::pow>>)
      .def("__matmul__", binop<routed<catalogue::matmul>>).def("__rmatmul__", rbinop<routed<catalogue::matmul>>)
      .def("__eq__", binop<routed<catalogue::eq>>).def("__ne__", binop<routed<catalogue::ne>>)
      .def("__lt__", binop<routed<catalogue::lt>>).def("__le__", binop<routed<catalogue::le>>)
      .def("__gt__", binop<routed<catalogue::gt>>).def("__ge__", binop<routed<catalogue::ge>>)
      .def("__and__", binop<routed<catalogue::logical_and>>).def("__or__", binop<routed<catalogue::logical_or>>)
      .def("__neg__", [](const Tensor& s) { return route(catalogue::neg, s); })
      .def("__invert__", [](const Tensor& s) {
        VT_CHECK_TYPE(s.dtype() == DType::Bool, "~ (bitwise not) is supported only for bool tensors, got ", s.dtype());
        return route(catalogue::logical_not, s);
      })
      .def("__abs__", [](const Tensor& s) { return route(catalogue::abs, s); })
      .def("__len__", [](const Tensor& s) {
        VT_CHECK_TYPE(s.dim() > 0, "len() of a 0-d tensor");
        return s.sizes()[0];
      })
      .def("__hash__", [](const Tensor& s) { return reinterpret_cast<uintptr_t>(s.impl()); });
}

}  // namespace vt::python
