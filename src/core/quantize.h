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

// The symmetric int8 scale of each of `channels` rows of `per_channel` values: max|w| / 127
// (1 for an all-zero row, which every grid represents).
inline std::vector<float> int8_channel_scales(const float* w, int64_t channels, int64_t per_channel) {
  std::vector<float> scales(static_cast<size_t>(channels), 1.0f);
  for (int64_t m = 0; m < channels; ++m) {
    float max_abs = 0;
    for (int64_t i = 0; i < per_channel; ++i) max_abs = std::max(max_abs, std::abs(w[m * per_channel + i]));
    if (max_abs > 0) scales[static_cast<size_t>(m)] = max_abs / 127.0f;
  }
  return scales;
}

}  // namespace inferd
