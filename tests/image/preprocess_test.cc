#include "image/preprocess.h"

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "image/decode.h"
#include "image_test_util.h"

namespace inferd::image {
namespace {

using test::Bytes;

// ---- A slow, obviously correct model of Pillow's resize, then crop ----------------------

constexpr int kFractionBits = 22;  // Pillow's PRECISION_BITS for 8-bit images

// Pillow's fixed-point weight of every source index for output `o` of an axis resized
// in -> out: a triangle centred on (o + 0.5) * in / out - 0.5, widened by the downscale
// factor, normalised, scaled by 2^22 and rounded. Written with Pillow's operations in
// Pillow's order (its centre, tap offset and 1 / widen multiply) because the textbook
// formula rounds differently in the last bit, which can flip an 8-bit rounding.
std::vector<int64_t> reference_weights(int in, int out, int o) {
  const double scale = double(in) / out, widen = std::max(scale, 1.0), inverse = 1.0 / widen;
  const double centre = (o + 0.5) * scale;
  std::vector<double> w(in);
  double sum = 0;
  for (int s = 0; s < in; ++s) {
    sum += w[s] = std::max(0.0, 1.0 - std::fabs((s - centre + 0.5) * inverse));
  }
  std::vector<int64_t> fixed(in);
  for (int s = 0; s < in; ++s) fixed[s] = int64_t(0.5 + w[s] / sum * (1 << kFractionBits));
  return fixed;
}

// A fixed-point weighted sum back to 8 bits, rounded to nearest.
int round_to_level(int64_t sum) {
  return int(std::clamp<int64_t>((sum + (1 << (kFractionBits - 1))) >> kFractionBits, 0, 255));
}

// The full image resized as Pillow does (horizontal pass over every source row, rounded to
// 8 bits, then the vertical pass, rounded again), then the crop; the geometry of
// plan_resize_crop: shorter side -> resize, longer side round(resize * long / short) with
// halves up, crop offsets floor(diff / 2). Only the cropped outputs are computed, but each
// from its full-image weights, which is the same thing.
std::vector<float> reference_preprocess(const Image& img, const PreprocessConfig& cfg) {
  int rw = cfg.width, rh = cfg.height, left = 0, top = 0;
  if (cfg.resize > 0) {
    const int64_t s = std::min(img.width, img.height), l = std::max(img.width, img.height);
    const int long_side = int((2 * cfg.resize * l + s) / (2 * s));
    rw = img.width <= img.height ? cfg.resize : long_side;
    rh = img.width <= img.height ? long_side : cfg.resize;
    left = (rw - cfg.width) / 2;
    top = (rh - cfg.height) / 2;
  }
  const int ch[3] = {cfg.channel_order == ChannelOrder::kBgr ? 2 : 0, 1,
                     cfg.channel_order == ChannelOrder::kBgr ? 0 : 2};
  std::vector<int> rows(size_t(img.height) * cfg.width * 3);  // horizontal pass, 8-bit
  for (int x = 0; x < cfg.width; ++x) {
    const std::vector<int64_t> wx = reference_weights(img.width, rw, left + x);
    // Only to save time: the sums skip the zero weights at either end.
    int lo = 0, hi = img.width;
    while (wx[lo] == 0) ++lo;
    while (wx[hi - 1] == 0) --hi;
    for (int sy = 0; sy < img.height; ++sy) {
      for (int c = 0; c < 3; ++c) {
        int64_t sum = 0;
        for (int sx = lo; sx < hi; ++sx) {
          sum += wx[sx] * img.rgb[(size_t(sy) * img.width + sx) * 3 + c];
        }
        rows[(size_t(sy) * cfg.width + x) * 3 + c] = round_to_level(sum);
      }
    }
  }
  std::vector<float> out(size_t(3) * cfg.width * cfg.height);
  for (int y = 0; y < cfg.height; ++y) {
    const std::vector<int64_t> wy = reference_weights(img.height, rh, top + y);
    for (int x = 0; x < cfg.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        int64_t sum = 0;
        for (int sy = 0; sy < img.height; ++sy) {
          sum += wy[sy] * rows[(size_t(sy) * cfg.width + x) * 3 + ch[c]];
        }
        out[(size_t(c) * cfg.height + y) * cfg.width + x] =
            float((round_to_level(sum) * double(cfg.scale) - cfg.mean[c]) / cfg.std[c]);
      }
    }
  }
  return out;
}

std::vector<float> run_preprocess(const Image& img, const PreprocessConfig& cfg) {
  std::vector<float> out(size_t(3) * cfg.width * cfg.height, NAN);
  const Status status = preprocess(img, cfg, out.data());
  EXPECT_TRUE(status.is_ok()) << status.message();
  return out;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) return INFINITY;
    d = std::max(d, std::fabs(a[i] - b[i]));
  }
  return d;
}

PreprocessConfig raw_pixels_config() {  // output = resized pixel values, 0..255
  PreprocessConfig cfg;
  cfg.scale = 1.0f;
  cfg.mean = {0, 0, 0};
  cfg.std = {1, 1, 1};
  return cfg;
}

// ---- Against the reference ---------------------------------------------------------------

TEST(Preprocess, MatchesReferenceOnRandomImages) {
  struct Size {
    int w, h;
  };
  // Landscape, square, large, upscaled, portrait, an odd centre-crop margin (385 - 224 =
  // 161), a long side of exactly 256.5 (513x512, rounded up to 257).
  const Size sizes[] = {{300, 200}, {227, 227}, {1000, 700}, {100, 80},
                        {200, 301}, {301, 200}, {513, 512}};
  uint32_t seed = 100;
  for (const Size& s : sizes) {
    SCOPED_TRACE(std::to_string(s.w) + "x" + std::to_string(s.h));
    const Image img = test::random_image(s.w, s.h, ++seed);
    const PreprocessConfig raw = raw_pixels_config();
    // Both round to 8 bits after each pass: the levels are identical.
    EXPECT_EQ(max_abs_diff(run_preprocess(img, raw), reference_preprocess(img, raw)), 0.0f);
    const PreprocessConfig imagenet;  // defaults: /255, torchvision mean/std
    EXPECT_LT(max_abs_diff(run_preprocess(img, imagenet), reference_preprocess(img, imagenet)),
              1e-4f);
  }
}

TEST(Preprocess, NonSquareCropAndCaffeStyleBgr) {
  const Image img = test::random_image(640, 480, 9);
  PreprocessConfig cfg;
  cfg.width = 227;
  cfg.height = 199;
  cfg.resize = 240;
  cfg.channel_order = ChannelOrder::kBgr;
  cfg.scale = 1.0f;
  cfg.mean = {104, 117, 123};
  cfg.std = {1, 1, 1};
  // level - mean is exact in float either way.
  EXPECT_EQ(max_abs_diff(run_preprocess(img, cfg), reference_preprocess(img, cfg)), 0.0f);
}

TEST(Preprocess, StretchWhenResizeIsZero) {
  PreprocessConfig cfg = raw_pixels_config();
  cfg.resize = 0;
  const Image down = test::random_image(300, 200, 31);
  EXPECT_EQ(max_abs_diff(run_preprocess(down, cfg), reference_preprocess(down, cfg)), 0.0f);
  const Image up = test::random_image(50, 120, 32);  // stretched up in x, down in y
  EXPECT_EQ(max_abs_diff(run_preprocess(up, cfg), reference_preprocess(up, cfg)), 0.0f);
  // Same size: every output is exactly its pixel.
  const Image same = test::random_image(224, 224, 33);
  const std::vector<float> out = run_preprocess(same, cfg);
  for (int c = 0; c < 3; ++c) {
    for (size_t i = 0; i < size_t(224) * 224; ++i) {
      ASSERT_EQ(out[c * 224 * 224 + i], same.rgb[i * 3 + c]);
    }
  }
}

TEST(Preprocess, BgrSwapsThePlanes) {
  const Image img = test::random_image(260, 300, 41);
  PreprocessConfig rgb;
  PreprocessConfig bgr = rgb;
  bgr.channel_order = ChannelOrder::kBgr;
  bgr.mean = {rgb.mean[2], rgb.mean[1], rgb.mean[0]};
  bgr.std = {rgb.std[2], rgb.std[1], rgb.std[0]};
  const std::vector<float> a = run_preprocess(img, rgb), b = run_preprocess(img, bgr);
  const size_t plane = size_t(224) * 224;
  for (size_t i = 0; i < plane; ++i) {
    ASSERT_EQ(a[i], b[2 * plane + i]);
    ASSERT_EQ(a[plane + i], b[plane + i]);
    ASSERT_EQ(a[2 * plane + i], b[i]);
  }
}

TEST(Preprocess, ConstantColourGivesConstantPlanes) {
  Image img;
  img.width = 517;
  img.height = 311;
  const uint8_t colour[3] = {200, 17, 96};
  for (int i = 0; i < img.width * img.height; ++i) img.rgb.insert(img.rgb.end(), colour, colour + 3);
  const PreprocessConfig cfg;
  const std::vector<float> out = run_preprocess(img, cfg);
  for (int c = 0; c < 3; ++c) {
    const float want = (colour[c] * cfg.scale - cfg.mean[c]) / cfg.std[c];
    for (size_t i = 0; i < size_t(224) * 224; ++i) {
      ASSERT_NEAR(out[c * 224 * 224 + i], want, 1e-5f) << c << " " << i;
    }
  }
}

// Bit-exactness against Pillow itself: pillow_match_test.cc.

// ---- Geometry and errors -------------------------------------------------------------------

TEST(PlanResizeCrop, RoundedLongSideAndFlooredCentreOffset) {
  const PreprocessConfig cfg;  // 224 crop of the shorter side resized to 256
  struct Case {
    int w, h, rw, rh, x, y;
  };
  const Case cases[] = {
      {1546, 1213, 326, 256, 51, 16},  // the hub dog: 256 * 1546 / 1213 = 326.28
      {301, 200, 385, 256, 80, 16},    // 385.28; offset 161 / 2 = 80.5 floors to 80
      {303, 200, 388, 256, 82, 16},    // 387.84 rounds up (torchvision's int() gave 387)
      {513, 512, 257, 256, 16, 16},    // exactly 256.5: halves round up, 33 / 2 floors
      {773, 512, 387, 256, 81, 16},    // the eagle: 386.5 -> 387
      {200, 300, 256, 384, 16, 80},    // portrait
      {227, 227, 256, 256, 16, 16},
      {100, 80, 320, 256, 48, 16},     // upscale
  };
  for (const Case& c : cases) {
    auto plan = plan_resize_crop(c.w, c.h, cfg);
    ASSERT_TRUE(plan.is_ok()) << plan.status().message();
    EXPECT_EQ(plan->resized_width, c.rw) << c.w << "x" << c.h;
    EXPECT_EQ(plan->resized_height, c.rh) << c.w << "x" << c.h;
    EXPECT_EQ(plan->crop_x, c.x) << c.w << "x" << c.h;
    EXPECT_EQ(plan->crop_y, c.y) << c.w << "x" << c.h;
  }
  PreprocessConfig stretch;
  stretch.resize = 0;
  auto plan = plan_resize_crop(1546, 1213, stretch);
  ASSERT_TRUE(plan.is_ok());
  EXPECT_EQ(plan->resized_width, 224);
  EXPECT_EQ(plan->crop_x, 0);
}

TEST(PlanResizeCrop, Errors) {
  PreprocessConfig small;
  small.resize = 200;
  EXPECT_EQ(plan_resize_crop(400, 300, small).status().message(),
            "preprocess: crop 224x224 does not fit in the image resized to 267x200 (resize=200): "
            "set resize >= the crop size, or 0 to stretch");
  PreprocessConfig zero;
  zero.width = 0;
  EXPECT_EQ(plan_resize_crop(400, 300, zero).status().message(),
            "preprocess: output size 0x224 must be positive");
  PreprocessConfig no_std;
  no_std.std[1] = 0;
  EXPECT_EQ(plan_resize_crop(400, 300, no_std).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(plan_resize_crop(0, 300, PreprocessConfig{}).status().message(),
            "preprocess: image size 0x300 must be positive");
  float out[3];
  EXPECT_EQ(preprocess(Image{}, PreprocessConfig{}, out).code(), StatusCode::kInvalidArgument);
}

// ---- decode_and_preprocess -------------------------------------------------------------------

std::vector<float> run_decode_and_preprocess(const Bytes& bytes, const PreprocessConfig& cfg) {
  std::vector<float> out(size_t(3) * cfg.width * cfg.height, NAN);
  const Status status = decode_and_preprocess(bytes, cfg, 64LL << 20, out.data());
  EXPECT_TRUE(status.is_ok()) << status.message();
  return out;
}

TEST(DecodeAndPreprocess, SmallImageIsDecodedAtFullSize) {
  // 227x227 < 256: no DCT scaling, so exactly decode then preprocess.
  const Bytes bytes = test::read_source_file("images/1.jpg");
  auto image = decode_image(bytes);
  ASSERT_TRUE(image.is_ok());
  const PreprocessConfig cfg;
  EXPECT_EQ(run_decode_and_preprocess(bytes, cfg), run_preprocess(*image, cfg));
}

double mean_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::fabs(a[i] - b[i]);
  return sum / double(a.size());
}

TEST(DecodeAndPreprocess, MediumPhotoIsDecodedAtFullSize) {
  // 773x512 -> 387x256: 1/2 would still cover the resized size, but not twice it
  // (kDctReducingGap), so the result is exactly decode + preprocess.
  if (auto missing = test::missing_assets({"images/darknet/eagle.jpg"}); !missing.empty()) GTEST_SKIP() << missing;
  const Bytes bytes = test::read_asset("images/darknet/eagle.jpg");
  auto image = decode_image(bytes);
  ASSERT_TRUE(image.is_ok());
  const PreprocessConfig cfg;
  EXPECT_EQ(run_decode_and_preprocess(bytes, cfg), run_preprocess(*image, cfg));
}

TEST(DecodeAndPreprocess, DctScaledDecodeStaysCloseToFullDecode) {
  // The dog doubled to 3092x2426 (a camera-sized photo) plans 326x256 and is decoded at
  // 1/4 (773x607, the last row half a block): the result differs from full decode +
  // resize by filtering detail only.
  if (auto missing = test::missing_assets({"images/misc/pytorch_hub_dog.jpg"}); !missing.empty())
    GTEST_SKIP() << missing;
  auto dog = decode_image(test::read_asset("images/misc/pytorch_hub_dog.jpg"));
  ASSERT_TRUE(dog.is_ok());
  std::vector<uint8_t> big(size_t(dog->width * 2) * (dog->height * 2) * 3);
  for (int y = 0; y < dog->height * 2; ++y) {
    for (int x = 0; x < dog->width * 2; ++x) {
      for (int c = 0; c < 3; ++c) {
        big[(size_t(y) * dog->width * 2 + x) * 3 + c] =
            dog->rgb[(size_t(y / 2) * dog->width + x / 2) * 3 + c];
      }
    }
  }
  const Bytes bytes = test::encode_jpeg(big, dog->width * 2, dog->height * 2, TJPF_RGB,
                                        TJSAMP_420, 90);
  DecodeOptions quarter;
  quarter.min_width = 652;
  quarter.min_height = 512;
  auto scaled = decode_image(bytes, quarter);
  ASSERT_TRUE(scaled.is_ok());
  EXPECT_EQ(scaled->width, 773);
  EXPECT_EQ(scaled->height, 607);
  auto full = decode_image(bytes);
  ASSERT_TRUE(full.is_ok());
  const PreprocessConfig cfg = raw_pixels_config();
  // Mean error in 0..255 levels: 0.26 measured; 0.72 when the decoded half-block row is
  // stretched over the whole span (no SourceSpan), shifting rows by up to 1/8 pixel.
  EXPECT_LT(mean_abs_diff(run_decode_and_preprocess(bytes, cfg), run_preprocess(*full, cfg)),
            0.4);
}

TEST(DecodeAndPreprocess, ExifOrientationIsPlannedOnTheTurnedImage) {
  // The dog (1546x1213, decoded at 1/2 = 773x607 whatever its orientation) has symmetric
  // crop margins (102 = 2 * 51, 32 = 2 * 16), so under each orientation its tensor is the
  // plain tensor turned the same way, but for the 8-bit roundings: a turn by 90 degrees
  // swaps which axis is filtered (and rounded) first, and a mirrored axis computes its
  // weights from mirrored centres, equal only to the last bit. That holds only if the
  // half-block last row of the 1/2 decode is placed where the turn put it (SourceSpan).
  if (auto missing = test::missing_assets({"images/misc/pytorch_hub_dog.jpg"}); !missing.empty())
    GTEST_SKIP() << missing;
  const Bytes plain = test::read_asset("images/misc/pytorch_hub_dog.jpg");
  const PreprocessConfig cfg = raw_pixels_config();
  const std::vector<float> a = run_decode_and_preprocess(plain, cfg);
  const int n = 224;
  for (int orientation = 2; orientation <= 8; ++orientation) {
    const Bytes tagged =
        test::insert_exif_app1(plain, test::exif_tiff_with_orientation(orientation, false));
    const std::vector<float> b = run_decode_and_preprocess(tagged, cfg);
    float max_diff = 0;
    int differing = 0;
    for (int c = 0; c < 3; ++c) {
      for (int sy = 0; sy < n; ++sy) {
        for (int sx = 0; sx < n; ++sx) {
          const test::Position d = test::oriented_position(sx, sy, n, n, orientation);
          const float want = a[(size_t(c) * n + sy) * n + sx];
          const float got = b[(size_t(c) * n + d.y) * n + d.x];
          max_diff = std::max(max_diff, std::fabs(want - got));
          differing += want != got;
        }
      }
    }
    if (orientation <= 4) {  // mirrored only: the same weights, the same pass order
      EXPECT_EQ(max_diff, 0.0f) << "orientation " << orientation;
    } else {  // one level, in 17% of the values measured
      EXPECT_LE(max_diff, 1.0f) << "orientation " << orientation;
      EXPECT_LT(differing, 3 * n * n / 4) << "orientation " << orientation;
    }
  }
}

TEST(DecodeAndPreprocess, Errors) {
  const PreprocessConfig cfg;
  std::vector<float> out(3 * 224 * 224);
  EXPECT_EQ(decode_and_preprocess({}, cfg, 1 << 20, out.data()).message(), "empty image");
  const Bytes bomb = test::patch_jpeg_size(test::read_source_file("images/1.jpg"), 30000, 30000);
  const Status status = decode_and_preprocess(bomb, cfg, 1 << 20, out.data());
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "image is 30000x30000, limit is 1048576 pixels");
}

}  // namespace
}  // namespace inferd::image
