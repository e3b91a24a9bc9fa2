#include "image/preprocess.h"

#include <cmath>
#include <string>

#include "image/decode.h"
#include "image/jpeg_decode.h"
#include "image/resample.h"

namespace inferd::image {
namespace {

// Longest side the virtual resized image may have: keeps every index in an int even for
// extreme aspect ratios (a 1 x 60M image resized to 256 would be 15G long).
constexpr double kMaxResizedSide = 1 << 24;

// decode_and_preprocess decodes a JPEG at the smallest DCT scale that leaves at least
// this many times the resized size (Pillow's thumbnail() "reducing_gap" idea), so that
// Pillow's antialiasing filter, not the DCT, does the last factor 2 of the shrinking, and
// photos under about 4x the resized size decode at full size and match Pillow exactly.
// Measured on the 334-photo ImageNet sample (reference: ONNX Runtime on Pillow-resized
// tensors): SqueezeNet top-1 agrees on 334/334 with this gap and with full-size decodes
// alike; 333 tensors are bit-identical to Pillow's, the 2400x1600 photo (decoded at 1/2)
// is off by 0.23 levels on average (max 4). The 1546x1213 hub dog: 8.5 ms to decode and
// preprocess at 1/2 (0.28 levels off, max 3) against 11.3 ms at full size. A gap of 1
// (decode just covering the resized size) was far worse: mean errors up to 3.9 levels.
constexpr double kDctReducingGap = 2.0;

std::string size_string(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

Status validate_config(const PreprocessConfig& cfg) {
  if (cfg.width <= 0 || cfg.height <= 0) {
    return invalid_argument("preprocess: output size " + size_string(cfg.width, cfg.height) +
                            " must be positive");
  }
  if (cfg.resize < 0) {
    return invalid_argument("preprocess: resize " + std::to_string(cfg.resize) +
                            " must be >= 0 (0 = stretch to the output size)");
  }
  if (!std::isfinite(cfg.scale)) return invalid_argument("preprocess: scale must be finite");
  for (int c = 0; c < 3; ++c) {
    if (!std::isfinite(cfg.mean[c]) || !std::isfinite(cfg.std[c]) || cfg.std[c] == 0.0f) {
      return invalid_argument("preprocess: mean[" + std::to_string(c) + "] and std[" +
                              std::to_string(c) + "] must be finite and std non-zero");
    }
  }
  if (cfg.mean_image && cfg.mean_image->size() != 3 * size_t(cfg.width) * size_t(cfg.height))
    return invalid_argument("preprocess: the mean image has " + std::to_string(cfg.mean_image->size()) +
                            " values; the output " + size_string(cfg.width, cfg.height) + " needs 3 x that");
  return Status::ok();
}

// floor(diff / 2), as Caffe's and most numpy pipelines' centre crop: with the
// rounded long side below, this reproduces the reference predictions of
// ../shared/assets (ONNX Runtime on PIL-resized images) on 334/334 ImageNet photos;
// torchvision's int()/round() pair agreed on only 320.
int centre_offset(int diff) { return diff / 2; }

PlaneMap plane_map(const PreprocessConfig& cfg) {
  PlaneMap map;
  if (cfg.channel_order == ChannelOrder::kBgr) map.source_channel = {2, 1, 0};
  // (v * scale - mean) / std folded into one multiply-add per value.
  for (int c = 0; c < 3; ++c) {
    map.gain[c] = cfg.scale / cfg.std[c];
    map.bias[c] = cfg.mean_image ? 0.0f : -cfg.mean[c] / cfg.std[c];  // a mean image comes after
  }
  return map;
}

// out -= mean_image * scale / std, per value: one pass over the output after the resampler
// (whose per-channel bias is then 0).
void subtract_mean_image(const PreprocessConfig& cfg, float* out_chw) {
  const size_t plane = size_t(cfg.width) * size_t(cfg.height);
  const float* mean = cfg.mean_image->data();
  for (size_t c = 0; c < 3; ++c) {
    const float gain = cfg.scale / cfg.std[c];
    for (size_t i = c * plane; i < (c + 1) * plane; ++i) out_chw[i] -= mean[i] * gain;
  }
}

// The span of the `decoded` pixels that a side of `full` pixels covers after a DCT-scaled
// decode at 1/k: decoded = ceil(full / k), and only the last pixel (the first, when EXIF
// orientation reversed the axis) may hold a partial block, so the image spans full / k.
SourceSpan dct_span(int full, int decoded, int k, bool reversed) {
  if (k <= 1 || (full + k - 1) / k != decoded) return {0.0, double(decoded)};
  const double extent = double(full) / k;
  return {reversed ? decoded - extent : 0.0, extent};
}

// Resamples `img` so that its spans cover plan.resized_width x plan.resized_height, and
// writes the crop.
Status resample_planned(const Image& img, SourceSpan span_x, SourceSpan span_y,
                        const ResizeCrop& plan, const PreprocessConfig& cfg, float* out_chw) {
  if (img.width <= 0 || img.height <= 0 ||
      img.rgb.size() != size_t(img.width) * size_t(img.height) * 3) {
    return invalid_argument("preprocess: image " + size_string(img.width, img.height) +
                            " has " + std::to_string(img.rgb.size()) +
                            " bytes; expected width * height * 3 > 0");
  }
  const AxisTaps x = triangle_taps(img.width, span_x, plan.resized_width, plan.crop_x, cfg.width);
  const AxisTaps y =
      triangle_taps(img.height, span_y, plan.resized_height, plan.crop_y, cfg.height);
  resample_to_planes(img, x, y, plane_map(cfg), out_chw);
  if (cfg.mean_image) subtract_mean_image(cfg, out_chw);
  return Status::ok();
}

}  // namespace

Result<ResizeCrop> plan_resize_crop(int image_width, int image_height,
                                    const PreprocessConfig& cfg) {
  RETURN_IF_ERROR(validate_config(cfg));
  if (image_width <= 0 || image_height <= 0) {
    return invalid_argument("preprocess: image size " + size_string(image_width, image_height) +
                            " must be positive");
  }
  if (cfg.resize == 0) return ResizeCrop{cfg.width, cfg.height, 0, 0};
  const bool portrait = image_width <= image_height;
  const int short_side = portrait ? image_width : image_height;
  const int long_side = portrait ? image_height : image_width;
  // round(resize * long / short), halves up: an exact product, one rounded division.
  const double new_long = std::floor(double(int64_t{cfg.resize} * long_side) / short_side + 0.5);
  if (new_long > kMaxResizedSide) {
    return invalid_argument("preprocess: image " + size_string(image_width, image_height) +
                            " is too elongated to resize its shorter side to " +
                            std::to_string(cfg.resize));
  }
  ResizeCrop plan;
  plan.resized_width = portrait ? cfg.resize : int(new_long);
  plan.resized_height = portrait ? int(new_long) : cfg.resize;
  if (cfg.width > plan.resized_width || cfg.height > plan.resized_height) {
    return invalid_argument(
        "preprocess: crop " + size_string(cfg.width, cfg.height) +
        " does not fit in the image resized to " +
        size_string(plan.resized_width, plan.resized_height) + " (resize=" +
        std::to_string(cfg.resize) + "): set resize >= the crop size, or 0 to stretch");
  }
  plan.crop_x = centre_offset(plan.resized_width - cfg.width);
  plan.crop_y = centre_offset(plan.resized_height - cfg.height);
  return plan;
}

Status preprocess(const Image& img, const PreprocessConfig& cfg, float* out_chw) {
  ASSIGN_OR_RETURN(ResizeCrop plan, plan_resize_crop(img.width, img.height, cfg));
  return resample_planned(img, {0.0, double(img.width)}, {0.0, double(img.height)}, plan, cfg,
                          out_chw);
}

Status decode_and_preprocess(std::span<const uint8_t> bytes, const PreprocessConfig& cfg,
                             int64_t max_pixels, float* out_chw) {
  ASSIGN_OR_RETURN(ImageInfo info, probe_image(bytes));
  const int orientation = info.exif_orientation;
  const bool swaps = orientation >= 5;
  const int width = swaps ? info.height : info.width;
  const int height = swaps ? info.width : info.height;
  ASSIGN_OR_RETURN(ResizeCrop plan, plan_resize_crop(width, height, cfg));
  DecodeOptions opts;
  opts.max_pixels = max_pixels;
  opts.min_width = int(plan.resized_width * kDctReducingGap);
  opts.min_height = int(plan.resized_height * kDctReducingGap);
  ASSIGN_OR_RETURN(Image img, decode_image(bytes, opts));
  // The DCT scale 1/k that decode_image chose (the same call, on the stored sides), for
  // the exact span of the decoded pixels.
  int k = 1;
  if (info.format == ImageFormat::kJpeg) {
    const JpegScale scale =
        choose_jpeg_scale(info.width, info.height, swaps ? opts.min_height : opts.min_width,
                          swaps ? opts.min_width : opts.min_height);
    k = scale.denom / scale.num;
  }
  // Orientations whose shown x (y) axis runs backwards through the stored image.
  const bool reversed_x = orientation == 2 || orientation == 3 || orientation == 6 || orientation == 7;
  const bool reversed_y = orientation == 3 || orientation == 4 || orientation == 7 || orientation == 8;
  return resample_planned(img, dct_span(width, img.width, k, reversed_x),
                          dct_span(height, img.height, k, reversed_y), plan, cfg, out_chw);
}

}  // namespace inferd::image
