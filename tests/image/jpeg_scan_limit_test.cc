// Decode cost is bounded before decoding: a progressive JPEG with too many scans, or too
// many pixel-scans, is refused with a clear message; ordinary progressive files decode.
// tests/image/data/progressive_{10,99}_scans.jpg: a 64x48 noise image made here with
// cjpeg, then jpegtran -progressive (10 scans) and jpegtran -scans with a 99-scan script
// (one scan per AC coefficient).
#include <gtest/gtest.h>

#include "core/file.h"
#include "image/decode.h"
#include "image/jpeg_decode.h"
#include "image/jpeg_markers.h"
#include "support/test_util.h"

namespace inferd::image {
namespace {

std::vector<uint8_t> data_file(const std::string& name) {
  auto bytes = read_file(test::source_dir() + "/tests/image/data/" + name);
  EXPECT_TRUE(bytes.is_ok()) << name;
  return bytes.is_ok() ? std::move(bytes).value() : std::vector<uint8_t>{};
}

TEST(JpegScans, AreCountedThroughTheEntropyCodedData) {
  EXPECT_EQ(count_jpeg_scans(data_file("progressive_10_scans.jpg")), 10);
  EXPECT_EQ(count_jpeg_scans(data_file("progressive_99_scans.jpg")), 99);
  auto rabbit = read_file(test::source_dir() + "/images/1.jpg");
  ASSERT_TRUE(rabbit.is_ok());
  EXPECT_GE(count_jpeg_scans(*rabbit), 1);
  EXPECT_EQ(count_jpeg_scans({}), 0);
}

TEST(JpegScans, ManyScansAreRefusedBeforeDecoding) {
  const auto bytes = data_file("progressive_99_scans.jpg");
  auto decoder = JpegDecoder::open(bytes);
  ASSERT_TRUE(decoder.is_ok()) << decoder.status().message();  // the header is fine
  auto image = decoder->decode(64, 48);
  ASSERT_FALSE(image.is_ok());
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(image.status().message(), "JPEG has 99 scans; at most 64 are decoded (common encoders write 10 or fewer)");
}

TEST(JpegScans, AnOrdinaryProgressiveJpegDecodes) {
  const auto bytes = data_file("progressive_10_scans.jpg");
  auto decoder = JpegDecoder::open(bytes);
  ASSERT_TRUE(decoder.is_ok()) << decoder.status().message();
  auto image = decoder->decode(64, 48);  // full size: no DCT downscale
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  EXPECT_EQ(image->width, 64);
  EXPECT_EQ(image->height, 48);
}

TEST(JpegScans, PixelScanBudget) {
  EXPECT_TRUE(check_jpeg_decode_cost(8192, 8192, 16).is_ok());   // the largest image, 16 scans
  EXPECT_TRUE(check_jpeg_decode_cost(4000, 3000, 64).is_ok());   // a 12 MP photo, the most scans
  const Status big = check_jpeg_decode_cost(8192, 8192, 17);
  EXPECT_EQ(big.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.message().find("8192x8192 with 17 scans is too costly to decode"), std::string::npos)
      << big.message();
  EXPECT_FALSE(check_jpeg_decode_cost(1, 1, 65).is_ok());
}

}  // namespace
}  // namespace inferd::image
