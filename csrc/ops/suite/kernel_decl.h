#pragma once
// How C++ sees one kernel of the suite: its family, its name in the Python kernel tables
// (kernels/triton/<family>.py, KERNELS) and its parameter list. See Note [Kernel suite launch path]
// in ops/suite/launch.h.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace vt::suite {

enum class Arg : uint8_t { ptr, i32, i64, f32 };

struct Param {
  const char* name;
  Arg kind;
};

// Note [Aligned variants] (kernels/triton/__init__.py): a kernel is compiled twice, and the variant
// that tells Triton these parameters are multiples of 16 (pointers: 16-byte aligned) gets vector
// loads. The rule is by name, the same on both sides.
bool aligned_param(const char* name);

constexpr int kMaxParams = 24;
constexpr int kMaxConstants = 8;

// One specialization: the dtype of each pointer parameter, the constexpr values, the launch shape
// and the device. Compared whole (trivially copyable, zero-filled), so equal keys are equal bytes.
struct SpecKey {
  int16_t device = -1;
  int16_t backend = 0;
  int16_t warps = 4;
  int16_t stages = 3;
  int16_t aligned = 0;  // every pointer 16-byte aligned, every aligned_param integer a multiple of 16
  int8_t dtypes[kMaxParams] = {};  // DType code + 1 of pointer parameters; 0 for scalars
  int64_t constants[kMaxConstants] = {};
  bool operator==(const SpecKey&) const = default;
};

struct Compiled;  // ops/suite/spec_table.h

// The compiled specializations of one kernel: an append-only array that launches read without a
// lock (Note [Specialization table]). Entries live for the process, as the driver's modules do.
class SpecTable {
 public:
  static constexpr int kCapacity = 128;
  const Compiled* find(const SpecKey& key) const;
  // Publishes `c` unless an equal key got there first; returns the entry that is in the table, or
  // nullptr when the table is full.
  const Compiled* insert(const Compiled* c);
  int size() const { return size_.load(std::memory_order_acquire); }

 private:
  std::atomic<const Compiled*> entries_[kCapacity] = {};
  std::atomic<int> size_{0};
  std::mutex insert_mutex_;  // writers only; never held while compiling
};

// Declared once, as a static object beside the op that launches it; every declaration is listed
// (declarations()) so a test can check it against the Python kernel it names.
struct KernelDecl {
  KernelDecl(const char* family, const char* name, std::vector<Param> params, std::vector<const char*> constants,
             bool builtin = true);
  KernelDecl(const KernelDecl&) = delete;
  KernelDecl& operator=(const KernelDecl&) = delete;

  const char* family;  // the unit kernels.backend selects and the record reports: "softmax", ...
  const char* name;    // key of the kernel in kernels/triton's KERNELS tables: "softmax_fwd", ...
  std::vector<Param> params;          // non-constexpr parameters in the kernel's order
  std::vector<const char*> constants;  // constexpr parameters in the kernel's order
  bool builtin;                        // declared by vibetensor's own ops (not by a test or plugin)
  mutable SpecTable table;
  mutable std::atomic<uint64_t> launches[4] = {};  // by backend
  // kernels.launch=python (Note [Python kernel launch]): launches made through Python, and those
  // made from C++ because the thread could not take the GIL or no Python launcher was registered.
  mutable std::atomic<uint64_t> python_launches{0}, cpp_not_gil{0}, cpp_no_launcher{0};
};

// Every declaration made so far, in order.
std::vector<const KernelDecl*> declarations();

}  // namespace vt::suite
