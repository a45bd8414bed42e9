#pragma once
// The tiling rules of the suite's row kernels, mirrored exactly from kernels/triton/__init__.py
// (row_config, persistent_programs): the Python side compiles what these choose, so the two must
// agree; tests/test_kernel_suite.py compares them over many shapes.
#include <algorithm>
#include <cstdint>

namespace vt::suite {

constexpr int64_t kMaxSingleCols = 8192;  // rows up to this many columns stay in registers
constexpr int64_t kLoopBlock = 4096;      // longer rows are walked in steps of this many columns
constexpr int64_t kTileElems = 2048;      // short rows share a program up to this many elements

inline int64_t next_pow2(int64_t n) {
  int64_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct RowConfig {
  int64_t rows, block;
  bool single;
  int warps;
};

inline RowConfig row_config(int64_t n_cols) {
  if (n_cols <= kMaxSingleCols) {
    int64_t block = std::max<int64_t>(16, next_pow2(n_cols));
    int64_t rows = std::max<int64_t>(1, kTileElems / block);
    return {rows, block, true, int(std::clamp<int64_t>(rows * block / 512, 4, 16))};
  }
  return {1, kLoopBlock, false, 8};
}

inline int64_t persistent_programs(int64_t n_tiles, int warps, int n_sms) {
  return std::max<int64_t>(1, std::min<int64_t>(n_tiles, int64_t(n_sms) * std::max(1, 32 / warps)));
}

// row_config for the backward kernels that walk row tiles and write a partial-sum row per program:
// at least 8 warps (their tiles need the registers), and the number of programs.
struct PersistentConfig {
  RowConfig row;
  int64_t programs;
};
// One program per SM at 16 warps, two at 8 (Note [Norm backward programs] in kernels/triton/__init__.py).
inline PersistentConfig persistent_row_config(int64_t n_rows, int64_t n_cols, int n_sms) {
  RowConfig c = row_config(n_cols);
  c.warps = std::max(c.warps, 8);
  int64_t programs = int64_t(n_sms) * std::max(1, 16 / c.warps);
  return {c, std::max<int64_t>(1, std::min<int64_t>(cdiv(n_rows, c.rows), programs))};
}

}  // namespace vt::suite
