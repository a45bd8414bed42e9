#include "cuda/matmul_settings.h"

#include <atomic>

namespace vt::cuda {

namespace {
std::atomic<bool> g_allow_tf32{false};
}

bool allow_tf32_matmul() { return g_allow_tf32.load(std::memory_order_relaxed); }
void set_allow_tf32_matmul(bool on) { g_allow_tf32.store(on, std::memory_order_relaxed); }

}  // namespace vt::cuda
