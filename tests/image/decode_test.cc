#include "image/decode.h"

#include <gtest/gtest.h>
#include <spng.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <random>
#include <thread>

#include "image/jpeg_decode.h"
#include "image_test_util.h"

namespace inferd::image {
namespace {

using test::Bytes;
using test::read_asset;

struct AssetCase {
  const char* path;
  ImageFormat format;
  int width, height, channels;
};

// Sizes and channel counts from the assets' MANIFEST.md.
const AssetCase kAssets[] = {
    {"images/seed_gre/1.jpg", ImageFormat::kJpeg, 227, 227, 3},
    {"images/seed_gre/2.jpg", ImageFormat::kJpeg, 227, 227, 3},
    {"images/seed_gre/3.jpg", ImageFormat::kJpeg, 227, 227, 3},
    {"images/seed_gre/4.jpg", ImageFormat::kJpeg, 227, 227, 3},
    {"images/seed_gre/5.jpg", ImageFormat::kJpeg, 227, 227, 3},
    {"images/seed_gre/6.jpg", ImageFormat::kJpeg, 480, 360, 3},
    {"images/caffe/cat.jpg", ImageFormat::kJpeg, 480, 360, 3},
    {"images/caffe/cat_gray.jpg", ImageFormat::kJpeg, 480, 360, 1},
    {"images/caffe/fish-bike.jpg", ImageFormat::kJpeg, 481, 323, 3},
    {"images/winml/kitten_224.png", ImageFormat::kPng, 224, 224, 4},
    {"images/winml/fish.png", ImageFormat::kPng, 224, 224, 3},
    {"images/winml/cat.jpg", ImageFormat::kJpeg, 1000, 1000, 3},
    {"images/winml/dog.jpg", ImageFormat::kJpeg, 1080, 1080, 3},
    {"images/winml/hummingbird.jpg", ImageFormat::kJpeg, 450, 450, 3},
    {"images/opencv/squirrel_cls.jpg", ImageFormat::kJpeg, 535, 426, 3},
    {"images/opencv/fruits.jpg", ImageFormat::kJpeg, 512, 480, 3},
    {"images/opencv/orange.jpg", ImageFormat::kJpeg, 512, 512, 3},
    {"images/opencv/apple.jpg", ImageFormat::kJpeg, 512, 512, 3},
    {"images/opencv/butterfly.jpg", ImageFormat::kJpeg, 493, 356, 3},
    {"images/darknet/eagle.jpg", ImageFormat::kJpeg, 773, 512, 3},
    {"images/misc/pytorch_hub_dog.jpg", ImageFormat::kJpeg, 1546, 1213, 3},
};

// Per-channel mean over the image: a photo is neither black nor a flat colour.
std::array<double, 3> channel_means(const Image& image) {
  std::array<double, 3> sum{};
  for (size_t i = 0; i < image.rgb.size(); ++i) sum[i % 3] += image.rgb[i];
  const double n = double(image.width) * image.height;
  return {sum[0] / n, sum[1] / n, sum[2] / n};
}

TEST(DecodeImage, EveryAssetPhotoHasItsManifestSize) {
  std::vector<std::string> paths;
  for (const AssetCase& asset : kAssets) paths.push_back(asset.path);
  if (auto missing = test::missing_assets(paths); !missing.empty()) GTEST_SKIP() << missing;
  for (const AssetCase& asset : kAssets) {
    SCOPED_TRACE(asset.path);
    const Bytes bytes = read_asset(asset.path);
    auto info = probe_image(bytes);
    ASSERT_TRUE(info.is_ok()) << info.status().message();
    EXPECT_EQ(info->format, asset.format);
    EXPECT_EQ(info->width, asset.width);
    EXPECT_EQ(info->height, asset.height);
    EXPECT_EQ(info->channels, asset.channels);
    EXPECT_EQ(info->exif_orientation, 1);
    auto image = decode_image(bytes);
    ASSERT_TRUE(image.is_ok()) << image.status().message();
    EXPECT_EQ(image->width, asset.width);
    EXPECT_EQ(image->height, asset.height);
    ASSERT_EQ(image->rgb.size(), size_t(asset.width) * asset.height * 3);
    for (double mean : channel_means(*image)) {
      EXPECT_GT(mean, 10.0);
      EXPECT_LT(mean, 245.0);
    }
  }
}

TEST(DecodeImage, GrayJpegIsReplicatedToRgb) {
  if (auto missing = test::missing_assets({"images/caffe/cat_gray.jpg"}); !missing.empty()) GTEST_SKIP() << missing;
  auto image = decode_image(read_asset("images/caffe/cat_gray.jpg"));
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  size_t differing = 0;
  for (size_t i = 0; i < image->rgb.size(); i += 3) {
    differing += image->rgb[i] != image->rgb[i + 1] || image->rgb[i] != image->rgb[i + 2];
  }
  EXPECT_EQ(differing, 0u);
}

TEST(DecodeImage, RgbaPngDropsAlphaExactly) {
  if (auto missing = test::missing_assets({"images/winml/kitten_224.png"}); !missing.empty()) GTEST_SKIP() << missing;
  const Bytes bytes = read_asset("images/winml/kitten_224.png");
  // The same file decoded to RGBA by spng directly: our RGB must be its first 3 channels.
  spng_ctx* ctx = spng_ctx_new(0);
  spng_set_png_buffer(ctx, bytes.data(), bytes.size());
  size_t size = 0;
  ASSERT_EQ(spng_decoded_image_size(ctx, SPNG_FMT_RGBA8, &size), 0);
  std::vector<uint8_t> rgba(size);
  ASSERT_EQ(spng_decode_image(ctx, rgba.data(), size, SPNG_FMT_RGBA8, 0), 0);
  spng_ctx_free(ctx);
  auto image = decode_image(bytes);
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  ASSERT_EQ(image->rgb.size() / 3, rgba.size() / 4);
  for (size_t i = 0; i < rgba.size() / 4; ++i) {
    for (int c = 0; c < 3; ++c) ASSERT_EQ(image->rgb[i * 3 + c], rgba[i * 4 + c]) << i;
  }
}

// One PNG layout: how a pixel of known RGB is written as samples, and the RGB that the
// decoder must give back for it.
struct PngCase {
  const char* name;
  int color_type, bit_depth;
  void (*write)(const uint8_t* rgb, size_t index, std::vector<uint8_t>* samples,
                std::vector<uint8_t>* expected);
};

void push_u16_host_order(std::vector<uint8_t>* out, uint16_t v) {  // spng's FMT_PNG layout
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&v);
  out->push_back(p[0]);
  out->push_back(p[1]);
}

const PngCase kPngCases[] = {
    {"gray8", SPNG_COLOR_TYPE_GRAYSCALE, 8,
     [](const uint8_t* rgb, size_t, std::vector<uint8_t>* s, std::vector<uint8_t>* e) {
       s->push_back(rgb[0]);
       e->insert(e->end(), 3, rgb[0]);  // gray replicated
     }},
    {"gray_alpha8", SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 8,
     [](const uint8_t* rgb, size_t, std::vector<uint8_t>* s, std::vector<uint8_t>* e) {
       s->insert(s->end(), {rgb[0], rgb[1]});
       e->insert(e->end(), 3, rgb[0]);
     }},
    {"gray16", SPNG_COLOR_TYPE_GRAYSCALE, 16,
     [](const uint8_t* rgb, size_t, std::vector<uint8_t>* s, std::vector<uint8_t>* e) {
       push_u16_host_order(s, uint16_t(rgb[2] * 257));  // the top byte is rgb[2]
       e->insert(e->end(), 3, rgb[2]);
     }},
    {"rgb16", SPNG_COLOR_TYPE_TRUECOLOR, 16,
     [](const uint8_t* rgb, size_t, std::vector<uint8_t>* s, std::vector<uint8_t>* e) {
       for (int c = 0; c < 3; ++c) push_u16_host_order(s, uint16_t(rgb[c] * 257));
       e->insert(e->end(), rgb, rgb + 3);
     }},
    {"rgba8", SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8,
     [](const uint8_t* rgb, size_t i, std::vector<uint8_t>* s, std::vector<uint8_t>* e) {
       s->insert(s->end(), {rgb[0], rgb[1], rgb[2], uint8_t(i)});  // alpha dropped
       e->insert(e->end(), rgb, rgb + 3);
     }},
};

Image decode_png_ok(const Bytes& png) {
  auto info = probe_image(png);
  EXPECT_TRUE(info.is_ok()) << info.status().message();
  if (info.is_ok()) {
    EXPECT_EQ(info->format, ImageFormat::kPng);
  }
  auto image = decode_image(png);
  EXPECT_TRUE(image.is_ok()) << image.status().message();
  return image.is_ok() ? std::move(image).value() : Image{};
}

// Gray, gray + alpha, RGBA and 16-bit PNGs decode to the exact RGB they encode.
TEST(DecodeImage, PngColourTypesAndDepthsToRgb8) {
  const int w = 13, h = 7;
  const Image truth = test::random_image(w, h, 11);
  for (const PngCase& c : kPngCases) {
    SCOPED_TRACE(c.name);
    std::vector<uint8_t> samples, expected;
    for (size_t i = 0; i < size_t(w) * h; ++i) c.write(&truth.rgb[i * 3], i, &samples, &expected);
    const Image image =
        decode_png_ok(test::encode_png(samples, w, h, c.color_type, c.bit_depth));
    EXPECT_EQ(image.width, w);
    EXPECT_EQ(image.height, h);
    EXPECT_EQ(image.rgb, expected);
  }
}

TEST(DecodeImage, PalettePngIsExpanded) {
  const int w = 9, h = 5;
  const Image colours = test::random_image(16, 1, 12);  // a 16-entry palette
  std::vector<uint8_t> indices, expected;
  for (int i = 0; i < w * h; ++i) {
    const int index = (i * 7) % 16;
    indices.push_back(uint8_t(index));
    expected.insert(expected.end(), &colours.rgb[index * 3], &colours.rgb[index * 3 + 3]);
  }
  const Image image = decode_png_ok(
      test::encode_png(indices, w, h, SPNG_COLOR_TYPE_INDEXED, 8, colours.rgb));
  EXPECT_EQ(image.rgb, expected);
}

TEST(DecodeImage, AdobeCmykJpegIsInvertedThenConverted) {
  // Flat CMYK colour, stored as TurboJPEG writes it (with an Adobe segment, hence read as
  // inverted): RGB = stored_C * stored_K / 255 etc.
  const int w = 32, h = 16;
  const uint8_t stored[4] = {200, 150, 100, 220};
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < w * h; ++i) cmyk.insert(cmyk.end(), stored, stored + 4);
  const Bytes jpeg = test::encode_jpeg(cmyk, w, h, TJPF_CMYK, TJSAMP_444, 100);
  auto info = probe_image(jpeg);
  ASSERT_TRUE(info.is_ok()) << info.status().message();
  EXPECT_EQ(info->channels, 4);
  auto image = decode_image(jpeg);
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  const double expected[3] = {200.0 * 220 / 255, 150.0 * 220 / 255, 100.0 * 220 / 255};
  for (size_t i = 0; i < image->rgb.size(); ++i) {
    ASSERT_NEAR(image->rgb[i], expected[i % 3], 2.0) << i;
  }
}

TEST(DecodeImage, RgbJpegRoundTripIsClose) {
  // A smooth synthetic image survives quality-95 4:4:4 JPEG within a few levels.
  const int w = 64, h = 40;
  std::vector<uint8_t> rgb;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) rgb.insert(rgb.end(), {uint8_t(x * 3), uint8_t(y * 5), 128});
  }
  auto image = decode_image(test::encode_jpeg(rgb, w, h, TJPF_RGB, TJSAMP_444, 95));
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  ASSERT_EQ(image->rgb.size(), rgb.size());
  for (size_t i = 0; i < rgb.size(); ++i) ASSERT_NEAR(image->rgb[i], rgb[i], 6) << i;
}

TEST(DecodeImage, DctScalingPicksQuarterForTheDog) {
  const JpegScale scale = choose_jpeg_scale(1546, 1213, 256, 256);
  EXPECT_EQ(scale.num * 4, scale.denom);  // 1213/4 = 303.25 >= 256, 1213/8 < 256
  EXPECT_EQ(scale.width, 387);
  EXPECT_EQ(scale.height, 304);
  const JpegScale eighth = choose_jpeg_scale(1546, 1213, 150, 150);
  EXPECT_EQ(eighth.num * 8, eighth.denom);
  const JpegScale full = choose_jpeg_scale(1546, 1213, 0, 0);
  EXPECT_EQ(full.num, full.denom);
  EXPECT_EQ(full.width, 1546);
  const JpegScale too_small = choose_jpeg_scale(100, 80, 256, 256);  // never upscales
  EXPECT_EQ(too_small.width, 100);
  EXPECT_EQ(too_small.height, 80);
  // 3/8 (455) would do, but only the SIMD scales 1/2, 1/4, 1/8 are used: 1/2 (607).
  const JpegScale half = choose_jpeg_scale(1546, 1213, 0, 400);
  EXPECT_EQ(half.num * 2, half.denom);
  EXPECT_EQ(half.height, 607);

  // The arithmetic above needs no file; the decode below needs the dog of the assets.
  if (auto missing = test::missing_assets({"images/misc/pytorch_hub_dog.jpg"}); !missing.empty())
    GTEST_SKIP() << missing;
  DecodeOptions opts;
  opts.min_width = 256;
  opts.min_height = 256;
  auto image = decode_image(read_asset("images/misc/pytorch_hub_dog.jpg"), opts);
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  EXPECT_EQ(image->width, 387);
  EXPECT_EQ(image->height, 304);
}

TEST(DecodeImage, EmptyInput) {
  auto result = decode_image({});
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(), "empty image");
  EXPECT_EQ(probe_image({}).status().message(), "empty image");
}

TEST(DecodeImage, GarbageBytes) {
  Bytes garbage(4096);
  std::mt19937 rng(7);
  for (uint8_t& b : garbage) b = uint8_t(rng());
  garbage[0] = 0x42;  // neither JPEG (FF) nor PNG (89)
  auto result = decode_image(garbage);
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(), "unsupported image format (expected JPEG or PNG)");
  // A GIF is refused the same way.
  const Bytes gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0};
  EXPECT_EQ(decode_image(gif).status().message(), "unsupported image format (expected JPEG or PNG)");
}

TEST(DecodeImage, JpegMagicFollowedByGarbage) {
  Bytes bytes = {0xFF, 0xD8, 0xFF};
  std::mt19937 rng(3);
  for (int i = 0; i < 500; ++i) bytes.push_back(uint8_t(rng() % 0xFF));  // no 0xFF
  auto result = decode_image(bytes);
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(result.status().message().rfind("corrupt JPEG: ", 0), 0u) << result.status().message();
}

TEST(DecodeImage, TruncatedJpegIsAnError) {
  const Bytes full = test::read_source_file("images/1.jpg");  // any baseline JPEG will do
  ASSERT_GT(full.size(), 200u);  // slicing an unread (empty) file crashed the test
  const Bytes half(full.begin(), full.begin() + full.size() / 2);
  auto result = decode_image(half);
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(result.status().message(), "corrupt JPEG: Premature end of JPEG file");
  // Cut inside the header: no size can be read at all.
  const Bytes head(full.begin(), full.begin() + 100);
  EXPECT_EQ(decode_image(head).status().message(), "corrupt JPEG: Premature end of JPEG file");
  EXPECT_EQ(probe_image(head).status().message(), "corrupt JPEG: Premature end of JPEG file");
}

TEST(DecodeImage, BenignJpegWarningIsAccepted) {
  // Stray bytes before SOS: libjpeg warns "Corrupt JPEG data: 3 extraneous bytes before
  // marker 0xda" (already while reading the header) but every pixel is intact, and
  // browsers show such files.
  const Bytes full = test::read_source_file("images/1.jpg");
  const uint8_t sos[] = {0xFF, 0xDA};
  const auto at = std::search(full.begin(), full.end(), std::begin(sos), std::end(sos));
  ASSERT_NE(at, full.end());
  Bytes padded(full.begin(), at);
  for (uint8_t b : {0x01, 0x02, 0x03}) padded.push_back(b);
  padded.insert(padded.end(), at, full.end());
  auto plain = decode_image(full);
  auto image = decode_image(padded);
  ASSERT_TRUE(plain.is_ok());
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  EXPECT_TRUE(image->rgb == plain->rgb);
}

TEST(DecodeImage, HeaderBombIsRefusedBeforeDecoding) {
  const Bytes bomb = test::patch_jpeg_size(test::read_source_file("images/1.jpg"), 30000, 30000);
  auto info = probe_image(bomb);
  ASSERT_TRUE(info.is_ok()) << info.status().message();
  EXPECT_EQ(info->width, 30000);
  auto result = decode_image(bomb);
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(result.status().message(), "image is 30000x30000, limit is 67108864 pixels");
  DecodeOptions small;
  small.max_pixels = 1000;
  EXPECT_EQ(decode_image(test::read_source_file("images/1.jpg"), small).status().message(),
            "image is 227x227, limit is 1000 pixels");
  // The JPEG checks above use the repository's photo; the PNG one needs the assets.
  if (auto missing = test::missing_assets({"images/winml/fish.png"}); !missing.empty()) GTEST_SKIP() << missing;
  EXPECT_EQ(decode_image(read_asset("images/winml/fish.png"), small).status().message(),
            "image is 224x224, limit is 1000 pixels");
}

TEST(DecodeImage, TruncatedAndCorruptPng) {
  if (auto missing = test::missing_assets({"images/winml/fish.png"}); !missing.empty()) GTEST_SKIP() << missing;
  const Bytes full = read_asset("images/winml/fish.png");
  ASSERT_GT(full.size(), 100u);  // slicing an unread (empty) file crashed the test
  const Bytes half(full.begin(), full.begin() + full.size() / 2);
  auto truncated = decode_image(half);
  ASSERT_FALSE(truncated.is_ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(truncated.status().message(),
            std::string("corrupt PNG: ") + spng_strerror(SPNG_IO_EOF));
  const Bytes header_only(full.begin(), full.begin() + 20);  // IHDR cut short
  EXPECT_EQ(probe_image(header_only).status().message(),
            std::string("corrupt PNG: ") + spng_strerror(SPNG_IO_EOF));
  Bytes bad_crc = full;
  bad_crc[29] ^= 0xFF;  // last byte of the IHDR CRC
  EXPECT_EQ(decode_image(bad_crc).status().message(),
            std::string("corrupt PNG: ") + spng_strerror(SPNG_ECHUNK_CRC));
}

TEST(DecodeImage, ConcurrentDecodesAgree) {
  // A colour JPEG, an RGBA PNG, a gray JPEG and another colour JPEG: all the decoders at once.
  const std::vector<std::string> paths = {"images/caffe/cat.jpg", "images/winml/kitten_224.png",
                                          "images/caffe/cat_gray.jpg", "images/opencv/fruits.jpg"};
  if (auto missing = test::missing_assets(paths); !missing.empty()) GTEST_SKIP() << missing;
  std::vector<Bytes> files;
  std::vector<Image> expected;
  for (const auto& p : paths) {
    files.push_back(read_asset(p));
    auto image = decode_image(files.back());
    ASSERT_TRUE(image.is_ok());
    expected.push_back(std::move(image).value());
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const size_t k = size_t(t + i) % files.size();
        auto image = decode_image(files[k]);
        mismatches[t] += !image.is_ok() || image->rgb != expected[k].rgb;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace inferd::image
