// See Note [Python kernel launch] in python_launch.h.
#include "ops/suite/python_launch.h"

#include <atomic>
#include <memory>

#include "core/error.h"

namespace vt::suite {
namespace {

// Registered rarely, read on every Python launch: swapped atomically, so a launch takes no lock of ours.
std::atomic<std::shared_ptr<const PythonLauncher>> g_launcher;

std::shared_ptr<const PythonLauncher> current() { return g_launcher.load(); }

}  // namespace

void set_python_launcher(PythonLauncher l) {
  g_launcher.store(l ? std::make_shared<const PythonLauncher>(std::move(l)) : nullptr);
}

bool has_python_launcher() { return current() != nullptr; }

void launch_from_python(const PythonLaunch& l) {
  std::shared_ptr<const PythonLauncher> f = current();
  VT_CHECK(f, "kernel suite: kernels.launch=python, but no Python launcher is registered (import vibetensor.kernels)");
  (*f)(l);
}

}  // namespace vt::suite
