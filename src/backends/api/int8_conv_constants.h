// The constants of an INT8 convolution (a Conv folded by quantized_layer_folding: input_scale,
// input_qmin/qmax, weight_scales) for kernels that multiply signed int8 only, as cuDNN's
// INT8 engines on sm_90 do (they have no engine for uint8 input: docs/quantization.md).
//
// A signed input grid (-128/-127..127) runs as it is. An unsigned one (0..255, a ReLU's
// output) is stored shifted, q - 128, and the convolution stays exact:
//   sum_taps w * q = sum_taps w * (q - 128) + 128 * sum_taps w
// provided every tap reads a stored value, the padding included: the kernel pads the input
// itself with -128 (the level of 0) and runs the convolution without padding, so the
// correction 128 x (the sum of output channel k's weight levels) is one number per channel,
// folded into the bias. Then, per output channel k with acc the int32 sum over the stored
// levels:
//   y[k] = acc * scale[k] + bias[k],  scale[k] = input_scale x weight_scale[k]
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace inferd {

struct Int8ConvConstants {
  int offset = 0;                     // 128 for an unsigned input grid (stored q - 128, padding -128), else 0
  std::vector<int8_t> weight_levels;  // round_half_even(W / weight_scales[k]), W's layout ([M, C/g, kH, kW])
  std::vector<float> scale;           // per output channel: input_scale x weight_scales[k]
  std::vector<float> bias;            // per output channel: the layer's bias + offset x scale[k] x sum of k's levels
};

// From a folded Conv's attributes and constants: `w` fp32 [M, C/g, kH, kW] on the grid of
// `weight_scales` (M values; empty: each output channel's max|w| / 127, the CPU backend's
// reading of a Conv without them), `bias` M values or empty. Fails, naming what, for a grid that
// is neither int8 nor uint8, a scale count that is not M, or a weight off its grid.
Result<Int8ConvConstants> int8_conv_constants(const Tensor& w, std::span<const float> bias, float input_scale,
                                              int64_t input_qmin, int64_t input_qmax,
                                              std::span<const float> weight_scales);

}  // namespace inferd
