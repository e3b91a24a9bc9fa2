// Symmetric quantization arithmetic shared by everything that quantizes: the reference
// kernels (FakeQuantize, a Conv's INT8 input), the CPU backend's INT8 convolutions and the
// optimizer's check of weight grids. One formula, so that every backend and the reference
// agree bit for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace inferd {

// round_half_even(v / scale) saturated to [lo, hi] (integers), as a float. Clamped before
// rounding (the same, as lo and hi are integers) so that adding and subtracting 1.5 * 2^23
// rounds half to even in the default rounding mode: no library call per element, and loops
// over it vectorize.
inline float quantized_level(float v, float scale, float lo, float hi) {
  constexpr float kRound = 12582912.0f;
  return (std::clamp(v / scale, lo, hi) + kRound) - kRound;
}

// max|w| of each channel along one axis of `size` values: element i is in channel
// (i / inner) % channels, `inner` being the count of elements after that axis.
inline std::vector<float> axis_max_abs(const float* w, int64_t size, int64_t channels, int64_t inner) {
  std::vector<float> max_abs(static_cast<size_t>(channels), 0.0f);
  for (int64_t i = 0; i < size; ++i) {
    float& m = max_abs[static_cast<size_t>((i / inner) % channels)];
    m = std::max(m, std::abs(w[i]));
  }
  return max_abs;
}

// The symmetric int8 scale of each channel along that axis: max|w| / 127 (1 for an all-zero
// channel, which every grid represents).
inline std::vector<float> int8_axis_scales(const float* w, int64_t size, int64_t channels, int64_t inner) {
  std::vector<float> max_abs = axis_max_abs(w, size, channels, inner);
  for (float& m : max_abs) m = m > 0 ? m / 127.0f : 1.0f;
  return max_abs;
}

// The same for `channels` rows of `per_channel` values (axis 0).
inline std::vector<float> int8_channel_scales(const float* w, int64_t channels, int64_t per_channel) {
  return int8_axis_scales(w, channels * per_channel, channels, per_channel);
}

}  // namespace inferd
