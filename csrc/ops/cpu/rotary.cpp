// CPU kernel of vt::rotary_embedding: the math on ops (Note [Rotary embedding] in ops/rotary.h).
#include "dispatch/dispatcher.h"
#include "ops/rotary.h"

namespace vt::cpu {
namespace {

Tensor rotary_embedding_cpu(const Tensor& self, const Tensor& cos, const Tensor& sin, bool inverse) {
  check_rotary_args("rotary_embedding", self, cos, sin);
  return rotary_math(self, cos, sin, inverse);
}

}  // namespace

VT_REGISTER_KERNEL("vt::rotary_embedding", CPU, rotary_embedding_cpu);

}  // namespace vt::cpu
