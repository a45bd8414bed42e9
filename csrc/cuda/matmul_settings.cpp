#include "cuda/matmul_settings.h"

#include <atomic>

namespace vt::cuda {

namespace {
std::atomic<bool> g_allow_tf32{false};
thread_local int t_tf32_override = -1;  // Note [TF32 matmul]: a scope's setting for this thread
}  // namespace

bool allow_tf32_matmul() {
  return t_tf32_override >= 0 ? t_tf32_override == 1 : g_allow_tf32.load(std::memory_order_relaxed);
}
void set_allow_tf32_matmul(bool on) { g_allow_tf32.store(on, std::memory_order_relaxed); }

int exchange_tf32_override(int value) {
  int previous = t_tf32_override;
  t_tf32_override = value < 0 ? -1 : value != 0;
  return previous;
}

}  // namespace vt::cuda
