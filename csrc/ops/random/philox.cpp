#include "ops/random/philox.h"

namespace vt::random {

namespace {
std::atomic<uint64_t> g_seed{67280421310721ull};
std::atomic<uint64_t> g_offset{0};
}  // namespace

void manual_seed(uint64_t s) {
  g_seed.store(s, std::memory_order_relaxed);
  g_offset.store(0, std::memory_order_relaxed);
}
uint64_t seed() { return g_seed.load(std::memory_order_relaxed); }
uint64_t offset() { return g_offset.load(std::memory_order_relaxed); }
void set_state(uint64_t s, uint64_t o) {
  g_seed.store(s, std::memory_order_relaxed);
  g_offset.store(o, std::memory_order_relaxed);
}
uint64_t reserve(uint64_t n) { return g_offset.fetch_add(n, std::memory_order_relaxed); }

}  // namespace vt::random
