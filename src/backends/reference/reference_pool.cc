// Reference kernels for pooling and normalisation: MaxPool, AveragePool,
// GlobalAveragePool, LRN, BatchNormalization (ONNX semantics). The output view's
// shape is authoritative: shape inference has already applied ceil_mode.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/reference/reference_kernels.h"

namespace inferd::ref {
namespace {

struct PoolParams {
  std::vector<int64_t> kernel, strides, pads, dilations;  // pads: top, left, bottom, right
};

PoolParams pool_params(const ir::Attributes& attrs) {
  return {attrs.get_ints("kernel_shape", {1, 1}), attrs.get_ints("strides", {1, 1}),
          attrs.get_ints("pads", {0, 0, 0, 0}), attrs.get_ints("dilations", {1, 1})};
}

// Calls visit(ih, iw) for every tap of output (oh, ow)'s window, padding included.
template <typename Visit>
void for_each_tap(const PoolParams& p, int64_t oh, int64_t ow, Visit visit) {
  for (int64_t kh = 0; kh < p.kernel[0]; ++kh)
    for (int64_t kw = 0; kw < p.kernel[1]; ++kw)
      visit(oh * p.strides[0] - p.pads[0] + kh * p.dilations[0], ow * p.strides[1] - p.pads[1] + kw * p.dilations[1]);
}

// Entry c of a per-channel [C] parameter (BatchNormalization's scale, B, mean, var).
float channel_param(const ConstTensorView& v, int64_t c) {
  return v.f32()[c * v.strides[0]];
}

// Padding never wins: only taps inside the input take part in the maximum.
void max_pool_float(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  const PoolParams p = pool_params(attrs);
  const int64_t in_h = x.shape[2], in_w = x.shape[3];
  for (int64_t n = 0; n < y.shape[0]; ++n)
    for (int64_t c = 0; c < y.shape[1]; ++c)
      for (int64_t oh = 0; oh < y.shape[2]; ++oh)
        for (int64_t ow = 0; ow < y.shape[3]; ++ow) {
          float best = -std::numeric_limits<float>::infinity();
          for_each_tap(p, oh, ow, [&](int64_t ih, int64_t iw) {
            if (ih >= 0 && ih < in_h && iw >= 0 && iw < in_w) best = std::fmax(best, at4(x, n, c, ih, iw));
          });
          at4(y, n, c, oh, ow) = best;
        }
}

}  // namespace

// Over INT8 levels (int8_storage) the max of the levels, which is the level of the max.
void max_pool(const ir::Attributes& attrs, Inputs in, Outputs out) {
  if (!is_levels(in[0].dtype)) return max_pool_float(attrs, in, out);
  const Tensor x_levels = values_of_levels(in[0], 1.0f);
  const ConstTensorView x(x_levels.raw(), x_levels.shape(), dense_strides(x_levels.shape()));
  Tensor y_levels(DataType::kFloat32, out[0].shape);
  const TensorView y(y_levels.raw(), y_levels.shape(), dense_strides(y_levels.shape()));
  max_pool_float(attrs, std::span<const ConstTensorView>(&x, 1), std::span<const TensorView>(&y, 1));
  write_levels(y_levels, 1.0f, out[0]);
}

// The mean of the taps inside the input. The divisor is, with count_include_pad,
// the taps inside the padded input (so a ceil_mode window that runs past the
// bottom/right padding counts only up to its edge, as PyTorch and onnxruntime do),
// otherwise the taps inside the unpadded input.
void average_pool(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  const PoolParams p = pool_params(attrs);
  const bool count_include_pad = attrs.get_int("count_include_pad", 0) != 0;
  const int64_t in_h = x.shape[2], in_w = x.shape[3];
  for (int64_t n = 0; n < y.shape[0]; ++n)
    for (int64_t c = 0; c < y.shape[1]; ++c)
      for (int64_t oh = 0; oh < y.shape[2]; ++oh)
        for (int64_t ow = 0; ow < y.shape[3]; ++ow) {
          double total = 0;
          int64_t inside = 0, inside_padded = 0;
          for_each_tap(p, oh, ow, [&](int64_t ih, int64_t iw) {
            if (ih >= -p.pads[0] && ih < in_h + p.pads[2] && iw >= -p.pads[1] && iw < in_w + p.pads[3]) ++inside_padded;
            if (ih >= 0 && ih < in_h && iw >= 0 && iw < in_w) {
              total += at4(x, n, c, ih, iw);
              ++inside;
            }
          });
          const int64_t divisor = count_include_pad ? inside_padded : inside;
          at4(y, n, c, oh, ow) = divisor > 0 ? static_cast<float>(total / static_cast<double>(divisor)) : 0.0f;
        }
}

// The mean over all spatial dims (2..rank-1); y has size 1 in those dims.
void global_average_pool(const ir::Attributes&, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  const DimSplit split = split_dims(x.shape, 2, x.shape.size());
  const std::vector<int64_t> plane = offsets_of(x, split.inner);
  for_each_index(split.outer, [&](const std::vector<int64_t>& idx) {
    const float* xs = x.f32() + offset_of(x, idx);
    double total = 0;
    for (int64_t off : plane) total += xs[off];
    y.f32()[offset_of(y, idx)] = static_cast<float>(total / static_cast<double>(plane.size()));
  });
}

namespace {
// Caffe's WITHIN_CHANNEL LRN (region "within_channel", 4-D, odd size): square_sum over the
// size x size window centred on (h, w) in the same channel, taps outside the image being
// zeros, y = x / (bias + alpha / size^2 * square_sum)^beta. (Caffe builds it from an
// average pool that counts the padding, so its divisor is always size^2.)
void lrn_within_channel(const ConstTensorView& x, const TensorView& y, int64_t size, double alpha, double beta,
                        double bias) {
  const int64_t half = (size - 1) / 2;
  const double scaled_alpha = alpha / static_cast<double>(size * size);
  for (int64_t n = 0; n < x.shape[0]; ++n)
    for (int64_t c = 0; c < x.shape[1]; ++c)
      for (int64_t h = 0; h < x.shape[2]; ++h)
        for (int64_t w = 0; w < x.shape[3]; ++w) {
          double square_sum = 0;
          for (int64_t ih = std::max<int64_t>(0, h - half); ih <= std::min(x.shape[2] - 1, h + half); ++ih)
            for (int64_t iw = std::max<int64_t>(0, w - half); iw <= std::min(x.shape[3] - 1, w + half); ++iw) {
              const double v = at4(x, n, c, ih, iw);
              square_sum += v * v;
            }
          const double scale = std::pow(bias + scaled_alpha * square_sum, beta);
          at4(y, n, c, h, w) = static_cast<float>(at4(x, n, c, h, w) / scale);
        }
}
}  // namespace

// ONNX LRN: square_sum over channels [c - floor((size-1)/2), c + ceil((size-1)/2)]
// clipped to the input, y = x / (bias + alpha / size * square_sum)^beta.
void lrn(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  const int64_t size = attrs.get_int("size", 1);
  const double alpha = attrs.get_float("alpha", 1e-4f);
  const double beta = attrs.get_float("beta", 0.75f);
  const double bias = attrs.get_float("bias", 1.0f);
  if (attrs.get_string("region", "across_channels") == "within_channel")
    return lrn_within_channel(x, y, size, alpha, beta, bias);
  const int64_t below = (size - 1) / 2, above = (size - 1) - below;
  const int64_t channels = x.shape[1];
  for_each_index(x.shape, [&](const std::vector<int64_t>& idx) {
    const int64_t c = idx[1];
    const float* xs = x.f32() + offset_of(x, idx);  // x[.., c, ..]; neighbours differ by strides[1]
    double square_sum = 0;
    for (int64_t i = std::max<int64_t>(0, c - below); i <= std::min(channels - 1, c + above); ++i) {
      const double v = xs[(i - c) * x.strides[1]];
      square_sum += v * v;
    }
    const double scale = std::pow(bias + alpha / static_cast<double>(size) * square_sum, beta);
    y.f32()[offset_of(y, idx)] = static_cast<float>(*xs / scale);
  });
}

// Inference-mode BatchNormalization over dim 1: inputs X, scale, B, mean, var;
// y = scale * (x - mean) / sqrt(var + epsilon) + B.
void batch_normalization(const ir::Attributes& attrs, Inputs in, Outputs out) {
  const ConstTensorView& x = in[0];
  const TensorView& y = out[0];
  const double epsilon = attrs.get_float("epsilon", 1e-5f);
  for_each_index(x.shape, [&](const std::vector<int64_t>& idx) {
    const int64_t c = idx[1];
    const double normalized = (x.f32()[offset_of(x, idx)] - static_cast<double>(channel_param(in[3], c))) /
                              std::sqrt(static_cast<double>(channel_param(in[4], c)) + epsilon);
    y.f32()[offset_of(y, idx)] = static_cast<float>(channel_param(in[1], c) * normalized + channel_param(in[2], c));
  });
}

}  // namespace inferd::ref
