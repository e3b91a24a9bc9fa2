// Decoded RGB pixels -> the float CHW tensor a classifier takes: resize the shorter side,
// centre crop, scale, subtract the mean, divide by the std, in the model's channel order.
// The geometry is that of the reference predictions in ../shared/assets (see
// plan_resize_crop); the resampling is Pillow's Image.resize(size, BILINEAR), bit for bit
// on the decoded 8-bit pixels (resample.h).
//
// Thread safety: every function is safe to call from any number of threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "image/image.h"

namespace inferd::image {

enum class ChannelOrder { kRgb, kBgr };

struct PreprocessConfig {
  int width = 224, height = 224;  // output (crop) size
  int resize = 256;               // shorter side resized to this before the centre crop;
                                  // 0 = stretch straight to width x height
  ChannelOrder channel_order = ChannelOrder::kRgb;
  float scale = 1.0f / 255.0f;    // applied to 0..255 pixel values before mean/std
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // per output channel, in channel_order
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
  // Caffe's mean image instead of `mean`: 3 x height x width values in channel_order,
  // already cropped to the output (the classifier crops a mean.binaryproto at the centre,
  // as Caffe crops it with the image); out = (pixel - mean_image[c][y][x]) * scale / std[c]:
  // the mean is in pixel units, subtracted before scaling, as Caffe's DataTransformer does.
  // Shared: one copy per model, however many requests use it.
  std::shared_ptr<const std::vector<float>> mean_image;
};

// Where the output pixels come from: the whole image is (virtually) resized to
// resized_width x resized_height and the output is the width x height window at
// (crop_x, crop_y) of that.
struct ResizeCrop {
  int resized_width = 0, resized_height = 0;
  int crop_x = 0, crop_y = 0;
};

// resize > 0: the shorter side becomes `resize`, the other round(resize * long / short)
// with halves rounded up; the crop offsets are floor((resized - crop) / 2). (torchvision's
// Resize truncates the long side and its CenterCrop rounds the offset half to even: a
// pixel off on some photos.) resize == 0: resized = crop, offsets 0.
// Fails when the crop does not fit in the resized image or the config is invalid.
Result<ResizeCrop> plan_resize_crop(int image_width, int image_height, const PreprocessConfig& cfg);

// Writes 3 * cfg.height * cfg.width floats, CHW planar:
// out[c] = (pixel * scale - mean[c]) / std[c] with c in channel_order, where pixel is the
// 8-bit value Pillow's resize + crop gives. Resize (bilinear with antialias), centre crop,
// normalisation and HWC -> CHW happen in one pass over the output; no full-size resized
// image is made.
Status preprocess(const Image& img, const PreprocessConfig& cfg, float* out_chw);

// The same for undecoded bytes: the resize plan is made from the header (after EXIF
// orientation). A JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that still
// covers twice the resized size, so only photos about 4x the resized size or more (a
// shorter side of about 1024 for resize 256) are DCT-scaled: that cuts their decode time,
// at the price of a tensor a fraction of a level off Pillow's full decode + resize.
// Smaller images, and PNGs, give exactly Pillow's tensor (see kDctReducingGap).
// max_pixels as DecodeOptions::max_pixels.
Status decode_and_preprocess(std::span<const uint8_t> bytes, const PreprocessConfig& cfg,
                             int64_t max_pixels, float* out_chw);

}  // namespace inferd::image
