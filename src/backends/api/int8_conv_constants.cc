#include "backends/api/int8_conv_constants.h"

#include <cmath>
#include <string>

#include "core/quantize.h"

namespace inferd {

Result<Int8ConvConstants> int8_conv_constants(const Tensor& w, std::span<const float> bias, float input_scale,
                                              int64_t input_qmin, int64_t input_qmax,
                                              std::span<const float> weight_scales) {
  const bool is_unsigned = input_qmin == 0 && input_qmax == 255;
  const bool is_signed = (input_qmin == -128 || input_qmin == -127) && input_qmax == 127;
  if (!is_unsigned && !is_signed)
    return invalid_argument("an INT8 input grid is -128/-127..127 or 0..255, not " + std::to_string(input_qmin) +
                            ".." + std::to_string(input_qmax));
  if (!(input_scale > 0) || !std::isfinite(input_scale))
    return invalid_argument("input_scale must be a positive finite number");
  if (w.dtype() != DataType::kFloat32 || w.shape().size() != 4)
    return invalid_argument("INT8 convolution weights must be fp32 [M, C/g, kH, kW], got " + to_string(w.shape()));
  const int64_t channels = w.shape()[0], per_channel = w.size() / std::max<int64_t>(channels, 1);
  // No scales: the weights' own per-channel grid, max|w| / 127, as the CPU backend reads it.
  std::vector<float> own_scales;
  if (weight_scales.empty()) {
    own_scales = int8_channel_scales(w.data<float>(), channels, per_channel);
    weight_scales = own_scales;
  }
  if (static_cast<int64_t>(weight_scales.size()) != channels)
    return invalid_argument(std::to_string(weight_scales.size()) + " weight scales for " + std::to_string(channels) +
                            " output channels");
  if (!bias.empty() && static_cast<int64_t>(bias.size()) != channels)
    return invalid_argument(std::to_string(bias.size()) + " bias values for " + std::to_string(channels) +
                            " output channels");
  Int8ConvConstants c;
  c.offset = is_unsigned ? 128 : 0;
  c.weight_levels.resize(static_cast<size_t>(w.size()));
  c.scale.resize(static_cast<size_t>(channels));
  c.bias.resize(static_cast<size_t>(channels));
  const float* values = w.data<float>();
  for (int64_t k = 0; k < channels; ++k) {
    const float ws = weight_scales[static_cast<size_t>(k)];
    if (!(ws > 0) || !std::isfinite(ws)) return invalid_argument("weight scale " + std::to_string(k) + " is not positive");
    int64_t sum = 0;
    for (int64_t i = k * per_channel; i < (k + 1) * per_channel; ++i) {
      const float level = quantized_level(values[i], ws, -127.0f, 127.0f);
      // On the grid means the level times the scale gives the weight back (what
      // quantized_layer_folding checked, to its tolerance).
      if (std::fabs(values[i] / ws - level) > 1e-3f)
        return invalid_argument("weight " + std::to_string(i) + " (" + std::to_string(values[i]) +
                                ") is not on output channel " + std::to_string(k) + "'s int8 grid");
      c.weight_levels[static_cast<size_t>(i)] = static_cast<int8_t>(level);
      sum += static_cast<int64_t>(level);
    }
    const size_t kk = static_cast<size_t>(k);
    c.scale[kk] = input_scale * ws;
    c.bias[kk] = (bias.empty() ? 0.0f : bias[kk]) + static_cast<float>(c.offset * sum) * c.scale[kk];
  }
  return c;
}

}  // namespace inferd
