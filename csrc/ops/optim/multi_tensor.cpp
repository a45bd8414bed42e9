#include "ops/optim/multi_tensor.h"

#include "ops/optim/clip_grad_norm.h"

#include <algorithm>
#include <sstream>

#include "core/shape.h"

namespace vt::optim {

namespace {

// "1 params, 2 grads and 1 exp_avgs"
std::string lengths_str(std::initializer_list<NamedList> lists) {
  std::ostringstream os;
  size_t k = 0;
  for (const NamedList& l : lists) {
    os << (k == 0 ? "" : k + 1 == lists.size() ? " and " : ", ") << l.tensors.size() << " " << l.name;
    ++k;
  }
  return os.str();
}

}  // namespace

void check_lists(const char* op, std::initializer_list<NamedList> lists) {
  const TensorList& params = lists.begin()->tensors;
  const size_t n = params.size();
  bool equal = true;
  for (const NamedList& l : lists) equal &= l.tensors.size() == n || (l.optional && l.tensors.empty());
  VT_CHECK_VALUE(equal, op, ": expected lists of equal length (an optional state list may be empty), got ",
                 lengths_str(lists));
  if (n == 0) return;
  const DType dt = params[0].dtype();
  const Device dev = params[0].device();
  VT_CHECK_TYPE(is_floating(dt), op, ": expected floating point parameters, got ", dt);
  for (const NamedList& l : lists) {
    for (size_t i = 0; i < l.tensors.size(); ++i) {
      const Tensor& t = l.tensors[i];
      VT_CHECK(t.defined(), op, ": ", l.name, "[", i, "] is undefined (a parameter without grad?)");
      VT_CHECK_TYPE(t.dtype() == dt, op, ": expected every tensor to be ", dt, ", got ", t.dtype(), " at ", l.name,
                    "[", i, "]");
      VT_CHECK(t.device() == dev, op, ": expected every tensor on ", dev, ", got ", t.device(), " at ", l.name, "[",
               i, "]");
      VT_CHECK(t.is_contiguous(), op, ": expected contiguous tensors, ", l.name, "[", i, "] is not");
      VT_CHECK_VALUE(std::ranges::equal(t.sizes(), params[i].sizes()), op, ": ", l.name, "[", i, "] has shape ",
                     shape_str(t.sizes()), " but its parameter has shape ", shape_str(params[i].sizes()));
    }
  }
}

void bump_versions(std::initializer_list<const TensorList*> lists) {
  for (const TensorList* l : lists)
    for (const Tensor& t : *l) t->bump_version();
}

void check_clip_grads(const TensorList& grads, double max_norm) {
  const char* op = "_fused_clip_grad_norm_";
  VT_CHECK_VALUE(max_norm == max_norm, op, ": expected a max_norm that is a number, got NaN");
  for (size_t i = 0; i < grads.size(); ++i) {
    const Tensor& g = grads[i];
    VT_CHECK(g.defined(), op, ": grads[", i, "] is undefined");
    VT_CHECK_TYPE(is_floating(g.dtype()), op, ": expected floating point gradients, got ", g.dtype(), " at grads[", i,
                  "]");
    VT_CHECK_TYPE(g.dtype() == grads[0].dtype(), op, ": expected every gradient to be ", grads[0].dtype(), ", got ",
                  g.dtype(), " at grads[", i, "]");
    VT_CHECK(g.device() == grads[0].device(), op, ": expected every gradient on ", grads[0].device(), ", got ",
             g.device(), " at grads[", i, "]");
    VT_CHECK(g.is_contiguous(), op, ": expected contiguous gradients, grads[", i, "] is not");
  }
}

}  // namespace vt::optim
