// See compiler.h.
#include "ops/suite/compiler.h"

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/gil_free_thread.h"

namespace vt::suite {
namespace {

constexpr int kBackends = 4;
std::mutex g_compilers_mutex;
Compiler g_compilers[kBackends];
std::atomic<bool> g_has_compiler[kBackends];
// The families each compiler serves (nullptr: all). Read without a lock on every op call of a family whose
// backend is selected, so a replaced list is never freed: a compiler is registered a few times a process.
std::atomic<const std::vector<std::string>*> g_families[kBackends];

}  // namespace

const char* backend_name(Backend b) { return policy::kernels_backend.values()[int(b)].c_str(); }

void set_compiler(Backend b, Compiler c, std::vector<std::string> families) {
  std::lock_guard<std::mutex> g(g_compilers_mutex);
  const std::vector<std::string>* list = families.empty() ? nullptr : new std::vector<std::string>(std::move(families));
  g_families[int(b)].store(list, std::memory_order_release);
  g_has_compiler[int(b)].store(bool(c), std::memory_order_release);
  g_compilers[int(b)] = std::move(c);
}

bool has_compiler(Backend b) { return g_has_compiler[int(b)].load(std::memory_order_acquire); }

bool serves(Backend b, const char* family) {
  if (!has_compiler(b)) return false;
  const std::vector<std::string>* list = g_families[int(b)].load(std::memory_order_acquire);
  if (!list) return true;
  for (const std::string& f : *list)
    if (f == family) return true;
  return false;
}

CompiledImage compile(Backend b, const CompileRequest& r) {
  Compiler c;
  {
    std::lock_guard<std::mutex> g(g_compilers_mutex);
    c = g_compilers[int(b)];  // a copy: the compiler runs with no lock of ours held
  }
  VT_CHECK(bool(c), "kernel suite: no ", backend_name(b), " compiler is registered (import vibetensor.kernels)");
  return c(r);
}

bool compiles_deferred() { return gil_forbidden(); }

}  // namespace vt::suite
