#pragma once
// How many windows a convolution or pooling fits along one dim, torch's rule, for the convolutions'
// and max pooling's geometries on every device.
#include <cstdint>

namespace vt {

// floor((size + 2*p - d*(k-1) - 1) / s) + 1 windows of k taps d apart, stride s, over `size` elements
// padded by p on each side; 0 where the padded input is shorter than the dilated window (a negative
// span would truncate toward zero, to one window). ceil_mode (pooling) rounds up instead, keeping only
// windows that start inside the input or its left padding.
inline int64_t window_out_size(int64_t size, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode = false) {
  const int64_t span = size + 2 * p - d * (k - 1) - 1;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= size + p) --out;  // the last window must start inside the input or left padding
  return out;
}

}  // namespace vt
