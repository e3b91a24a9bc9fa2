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

// ---- A slow, obviously correct reference, in double precision -------------------------

// Weights of every source index for output `o` of an axis resized in -> out: a triangle
// centred on (o + 0.5) * in / out - 0.5, widened by the downscale factor, normalised.
std::vector<double> reference_weights(int in, int out, int o) {
  const double scale = double(in) / out, widen = std::max(scale, 1.0);
  const double centre = (o + 0.5) * scale - 0.5;
  std::vector<double> w(in);
  double sum = 0;
  for (int s = 0; s < in; ++s) sum += w[s] = std::max(0.0, 1.0 - std::fabs(s - centre) / widen);
  for (double& v : w) v /= sum;
  return w;
}

// torchvision Resize(resize) + CenterCrop, written as directly as possible.
std::vector<float> reference_preprocess(const Image& img, const PreprocessConfig& cfg) {
  int rw = cfg.width, rh = cfg.height, left = 0, top = 0;
  if (cfg.resize > 0) {
    const int s = std::min(img.width, img.height), l = std::max(img.width, img.height);
    const int long_side = int(double(int64_t(cfg.resize) * l) / s);
    rw = img.width <= img.height ? cfg.resize : long_side;
    rh = img.width <= img.height ? long_side : cfg.resize;
    left = int(std::nearbyint((rw - cfg.width) / 2.0));  // half to even, as Python's round
    top = int(std::nearbyint((rh - cfg.height) / 2.0));
  }
  const int ch[3] = {cfg.channel_order == ChannelOrder::kBgr ? 2 : 0, 1,
                     cfg.channel_order == ChannelOrder::kBgr ? 0 : 2};
  std::vector<float> out(size_t(3) * cfg.width * cfg.height);
  // Horizontal pass for every source row and output column, then vertical.
  std::vector<double> rows(size_t(img.height) * cfg.width * 3);
  for (int x = 0; x < cfg.width; ++x) {
    const std::vector<double> wx = reference_weights(img.width, rw, left + x);
    for (int sy = 0; sy < img.height; ++sy) {
      for (int sx = 0; sx < img.width; ++sx) {
        if (wx[sx] == 0) continue;
        for (int c = 0; c < 3; ++c) {
          rows[(size_t(sy) * cfg.width + x) * 3 + c] +=
              wx[sx] * img.rgb[(size_t(sy) * img.width + sx) * 3 + c];
        }
      }
    }
  }
  for (int y = 0; y < cfg.height; ++y) {
    const std::vector<double> wy = reference_weights(img.height, rh, top + y);
    for (int x = 0; x < cfg.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        double v = 0;
        for (int sy = 0; sy < img.height; ++sy) {
          v += wy[sy] * rows[(size_t(sy) * cfg.width + x) * 3 + ch[c]];
        }
        out[(size_t(c) * cfg.height + y) * cfg.width + x] =
            float((v * cfg.scale - cfg.mean[c]) / cfg.std[c]);
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
  // Landscape, square, large, upscaled, portrait, odd centre-crop offsets (385 - 224 = 161).
  const Size sizes[] = {{300, 200}, {227, 227}, {1000, 700}, {100, 80}, {200, 301}, {301, 200}};
  uint32_t seed = 100;
  for (const Size& s : sizes) {
    SCOPED_TRACE(std::to_string(s.w) + "x" + std::to_string(s.h));
    const Image img = test::random_image(s.w, s.h, ++seed);
    const PreprocessConfig raw = raw_pixels_config();
    EXPECT_LT(max_abs_diff(run_preprocess(img, raw), reference_preprocess(img, raw)), 1e-3f);
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
  EXPECT_LT(max_abs_diff(run_preprocess(img, cfg), reference_preprocess(img, cfg)), 1e-3f);
}

TEST(Preprocess, StretchWhenResizeIsZero) {
  PreprocessConfig cfg = raw_pixels_config();
  cfg.resize = 0;
  const Image down = test::random_image(300, 200, 31);
  EXPECT_LT(max_abs_diff(run_preprocess(down, cfg), reference_preprocess(down, cfg)), 1e-3f);
  const Image up = test::random_image(50, 120, 32);  // stretched up in x, down in y
  EXPECT_LT(max_abs_diff(run_preprocess(up, cfg), reference_preprocess(up, cfg)), 1e-3f);
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

// Pillow 9.4's Image.resize(size, Image.BILINEAR) then crop, on images from the LCG
// s = (s * 1103515245 + 12345) mod 2^31, byte = (s >> 16) & 255 (RGB interleaved), as
// torchvision Resize + CenterCrop(8) computes them. Pillow rounds to 8 bits after each
// of its two passes, so our float result may differ by up to one level, not more.
Image lcg_image(int w, int h, uint32_t seed) {
  Image img;
  img.width = w;
  img.height = h;
  uint64_t s = seed;
  for (int i = 0; i < w * h * 3; ++i) {
    s = (s * 1103515245u + 12345u) % (1u << 31);
    img.rgb.push_back(uint8_t((s >> 16) & 255));
  }
  return img;
}

void expect_close_to_pillow(const Image& img, int resize, const std::vector<int>& pillow_hwc) {
  PreprocessConfig cfg = raw_pixels_config();
  cfg.width = cfg.height = 8;
  cfg.resize = resize;
  const std::vector<float> out = run_preprocess(img, cfg);
  double max_diff = 0, sum_diff = 0;
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      for (int c = 0; c < 3; ++c) {
        const double d = std::fabs(out[(c * 8 + y) * 8 + x] - pillow_hwc[(y * 8 + x) * 3 + c]);
        max_diff = std::max(max_diff, d);
        sum_diff += d;
      }
    }
  }
  EXPECT_LE(max_diff, 1.0 + 1e-4);
  EXPECT_LT(sum_diff / 192, 0.5);
}

TEST(Preprocess, CloseToPillowDownscale) {
  // 37x23 -> 25x16, crop at (8, 4): round(17 / 2) = 8 rounds half to even.
  expect_close_to_pillow(lcg_image(37, 23, 1), 16, {
      129, 133, 137, 158, 90, 108, 139, 75, 116, 127, 125, 118, 153, 80, 95, 150, 147, 67,
      169, 149, 127, 142, 103, 171, 40, 199, 105, 50, 147, 121, 151, 70, 163, 104, 103, 119,
      114, 183, 100, 152, 127, 66, 175, 68, 80, 182, 71, 61, 104, 184, 134, 145, 140, 113,
      143, 158, 80, 111, 144, 99, 171, 210, 80, 143, 176, 135, 117, 166, 144, 128, 165, 79,
      100, 104, 163, 146, 91, 159, 127, 142, 167, 77, 163, 130, 108, 194, 122, 160, 114, 120,
      126, 121, 123, 145, 121, 160, 152, 67, 129, 114, 126, 144, 60, 93, 143, 125, 129, 211,
      196, 134, 195, 202, 69, 149, 174, 114, 159, 114, 111, 160, 111, 128, 79, 123, 83, 98,
      97, 137, 128, 132, 157, 121, 160, 118, 109, 72, 125, 128, 123, 153, 183, 131, 145, 133,
      143, 126, 92, 110, 142, 185, 116, 84, 205, 82, 105, 186, 169, 68, 140, 35, 122, 137,
      122, 108, 171, 190, 127, 83, 102, 85, 175, 120, 104, 188, 159, 99, 193, 142, 136, 130,
      165, 157, 152, 106, 160, 156, 110, 110, 153, 147, 137, 112});
}

TEST(Preprocess, CloseToPillowUpscale) {
  // 9x7 -> 25x20, crop at (8, 6).
  expect_close_to_pillow(lcg_image(9, 7, 2), 20, {
      73, 120, 118, 81, 171, 100, 79, 168, 96, 75, 150, 96, 72, 131, 97, 118, 95, 75, 165, 60,
      53, 186, 45, 48, 73, 137, 88, 74, 209, 59, 83, 197, 61, 95, 161, 71, 107, 125, 82, 154,
      83, 58, 201, 42, 33, 219, 25, 27, 114, 171, 79, 127, 219, 45, 135, 210, 52, 141, 185,
      70, 148, 160, 89, 182, 115, 67, 215, 70, 45, 226, 48, 40, 155, 205, 70, 180, 229, 31,
      186, 223, 43, 187, 208, 69, 189, 194, 96, 209, 146, 77, 229, 99, 57, 233, 72, 53, 157,
      210, 96, 184, 222, 63, 197, 214, 74, 207, 199, 96, 217, 185, 119, 222, 141, 107, 227,
      97, 93, 220, 72, 90, 120, 186, 157, 139, 197, 141, 168, 181, 143, 201, 156, 150, 233,
      132, 157, 221, 98, 156, 209, 65, 154, 188, 48, 151, 82, 162, 217, 94, 173, 219, 139,
      148, 213, 194, 113, 204, 249, 79, 195, 220, 56, 205, 191, 33, 214, 156, 24, 212, 66,
      142, 198, 69, 132, 210, 117, 109, 207, 178, 84, 198, 239, 58, 190, 206, 53, 194, 174,
      48, 198, 139, 49, 195});
}

// ---- Geometry and errors -------------------------------------------------------------------

TEST(PlanResizeCrop, TorchvisionGeometry) {
  const PreprocessConfig cfg;  // 224 crop of the shorter side resized to 256
  struct Case {
    int w, h, rw, rh, x, y;
  };
  const Case cases[] = {
      {1546, 1213, 326, 256, 51, 16},  // the hub dog: int(256 * 1546 / 1213) = 326
      {301, 200, 385, 256, 80, 16},    // 161 / 2 = 80.5 rounds to even 80
      {303, 200, 387, 256, 82, 16},    // 163 / 2 = 81.5 rounds to even 82
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
            "preprocess: crop 224x224 does not fit in the image resized to 266x200 (resize=200): "
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
  const Bytes bytes = test::read_asset("images/seed_gre/1.jpg");
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
  // 773x512 -> 386x256: 1/2 would still cover the resized size, but not twice it
  // (kDctReducingGap), so the result is exactly decode + preprocess.
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
  // Mean error in 0..255 levels: 0.22 measured; 0.70 when the decoded half-block row is
  // stretched over the whole span (no SourceSpan), shifting rows by up to 1/8 pixel.
  EXPECT_LT(mean_abs_diff(run_decode_and_preprocess(bytes, cfg), run_preprocess(*full, cfg)),
            0.4);
}

TEST(DecodeAndPreprocess, ExifOrientationIsPlannedOnTheTurnedImage) {
  // The dog (1546x1213, decoded at 1/2 = 773x607 whatever its orientation) has symmetric
  // crop margins (102 = 2 * 51, 32 = 2 * 16), so under each orientation its tensor is the
  // plain tensor turned the same way, exactly but for float summation order. That holds
  // only if the half-block last row of the 1/2 decode is placed where the turn put it
  // (SourceSpan).
  const Bytes plain = test::read_asset("images/misc/pytorch_hub_dog.jpg");
  const PreprocessConfig cfg = raw_pixels_config();
  const std::vector<float> a = run_decode_and_preprocess(plain, cfg);
  const int n = 224;
  for (int orientation = 2; orientation <= 8; ++orientation) {
    const Bytes tagged =
        test::insert_exif_app1(plain, test::exif_tiff_with_orientation(orientation, false));
    const std::vector<float> b = run_decode_and_preprocess(tagged, cfg);
    float max_diff = 0;
    for (int c = 0; c < 3; ++c) {
      for (int sy = 0; sy < n; ++sy) {
        for (int sx = 0; sx < n; ++sx) {
          const test::Position d = test::oriented_position(sx, sy, n, n, orientation);
          const float want = a[(size_t(c) * n + sy) * n + sx];
          const float got = b[(size_t(c) * n + d.y) * n + d.x];
          max_diff = std::max(max_diff, std::fabs(want - got));
        }
      }
    }
    EXPECT_LT(max_diff, 1e-3f) << "orientation " << orientation;
  }
}

TEST(DecodeAndPreprocess, Errors) {
  const PreprocessConfig cfg;
  std::vector<float> out(3 * 224 * 224);
  EXPECT_EQ(decode_and_preprocess({}, cfg, 1 << 20, out.data()).message(), "empty image");
  const Bytes bomb = test::patch_jpeg_size(test::read_asset("images/seed_gre/1.jpg"), 30000, 30000);
  const Status status = decode_and_preprocess(bomb, cfg, 1 << 20, out.data());
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "image is 30000x30000, limit is 1048576 pixels");
}

}  // namespace
}  // namespace inferd::image
