#include <gtest/gtest.h>
#include <spng.h>

#include "image/decode.h"
#include "image/exif.h"
#include "image/orientation.h"
#include "image_test_util.h"

namespace inferd::image {
namespace {

using test::Bytes;

TEST(ExifOrientation, ReadsEveryValueInBothByteOrders) {
  for (int orientation = 1; orientation <= 8; ++orientation) {
    for (bool little : {true, false}) {
      EXPECT_EQ(exif_orientation_from_tiff(test::exif_tiff_with_orientation(orientation, little)),
                orientation)
          << orientation << (little ? " II" : " MM");
    }
  }
}

TEST(ExifOrientation, MalformedTiffMeansAsStored) {
  const Bytes good = test::exif_tiff_with_orientation(6, true);
  EXPECT_EQ(exif_orientation_from_tiff({}), 1);
  EXPECT_EQ(exif_orientation_from_tiff(std::span(good).first(good.size() - 10)), 1);  // cut
  Bytes bad_magic = good;
  bad_magic[2] = 43;
  EXPECT_EQ(exif_orientation_from_tiff(bad_magic), 1);
  Bytes bad_order = good;
  bad_order[0] = 'X';
  EXPECT_EQ(exif_orientation_from_tiff(bad_order), 1);
  Bytes ifd_out_of_range = good;
  ifd_out_of_range[4] = 0xF0;  // IFD0 at 240, past the end
  EXPECT_EQ(exif_orientation_from_tiff(ifd_out_of_range), 1);
  Bytes long_type = good;
  long_type[12] = 4;  // LONG instead of SHORT
  EXPECT_EQ(exif_orientation_from_tiff(long_type), 1);
  EXPECT_EQ(exif_orientation_from_tiff(test::exif_tiff_with_orientation(9, true)), 1);
  EXPECT_EQ(exif_orientation_from_tiff(test::exif_tiff_with_orientation(0, false)), 1);
  Bytes other_tag = good;
  other_tag[10] = 0x13;  // tag 0x0113 is not Orientation
  EXPECT_EQ(exif_orientation_from_tiff(other_tag), 1);
}

TEST(ExifOrientation, ApplyMatchesHandWrittenTransforms) {
  const Image src = test::random_image(5, 3, 21);
  for (int orientation = 1; orientation <= 8; ++orientation) {
    SCOPED_TRACE(orientation);
    const Image got = apply_exif_orientation(src, orientation);
    const Image want = test::orient_by_hand(src, orientation);
    EXPECT_EQ(got.width, want.width);
    EXPECT_EQ(got.height, want.height);
    EXPECT_EQ(got.rgb, want.rgb);
  }
  // A known fact, independent of both: rotating 90 degrees clockwise puts the bottom-left
  // pixel at the top-left.
  const Image rotated = apply_exif_orientation(src, 6);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(rotated.rgb[c], src.rgb[(2 * 5 + 0) * 3 + c]);
  EXPECT_EQ(apply_exif_orientation(src, 0).rgb, src.rgb);
  EXPECT_EQ(apply_exif_orientation(src, 9).rgb, src.rgb);
}

Image decode_ok(const Bytes& bytes, const DecodeOptions& opts = {}) {
  auto image = decode_image(bytes, opts);
  EXPECT_TRUE(image.is_ok()) << image.status().message();
  return image.is_ok() ? std::move(image).value() : Image{};
}

// A JPEG with an APP1 Exif segment inserted right after SOI decodes to the unrotated
// pixels turned by hand.
void expect_jpeg_orientation(const Bytes& original, const std::string& name, int orientation, bool little_endian) {
  SCOPED_TRACE(name + " orientation " + std::to_string(orientation));
  const Bytes tagged =
      test::insert_exif_app1(original, test::exif_tiff_with_orientation(orientation, little_endian));
  auto info = probe_image(tagged);
  ASSERT_TRUE(info.is_ok()) << info.status().message();
  EXPECT_EQ(info->exif_orientation, orientation);
  const Image plain = decode_ok(original);
  const Image turned = decode_ok(tagged);
  const Image want = test::orient_by_hand(plain, orientation);
  EXPECT_EQ(turned.width, want.width);
  EXPECT_EQ(turned.height, want.height);
  EXPECT_TRUE(turned.rgb == want.rgb);
  DecodeOptions as_stored;
  as_stored.apply_exif_orientation = false;
  EXPECT_TRUE(decode_ok(tagged, as_stored).rgb == plain.rgb);
}

TEST(ExifOrientation, JpegApp1IsAppliedAfterDecode) {
  const Bytes square = test::read_source_file("images/1.jpg");  // 227x227, in the repository
  expect_jpeg_orientation(square, "images/1.jpg", 6, true);
  expect_jpeg_orientation(square, "images/1.jpg", 3, false);
  // The non-square photo comes from the shared assets.
  if (auto missing = test::missing_assets({"images/caffe/cat.jpg"}); !missing.empty()) GTEST_SKIP() << missing;
  // 480x360: 6 and 8 swap the sides, 3 does not.
  const Bytes cat = test::read_asset("images/caffe/cat.jpg");
  expect_jpeg_orientation(cat, "images/caffe/cat.jpg", 6, true);
  expect_jpeg_orientation(cat, "images/caffe/cat.jpg", 6, false);
  expect_jpeg_orientation(cat, "images/caffe/cat.jpg", 3, true);
  expect_jpeg_orientation(cat, "images/caffe/cat.jpg", 8, false);
  expect_jpeg_orientation(cat, "images/caffe/cat.jpg", 5, true);
  expect_jpeg_orientation(cat, "images/caffe/cat.jpg", 7, false);
  const Image turned = decode_ok(test::insert_exif_app1(cat, test::exif_tiff_with_orientation(6, true)));
  EXPECT_EQ(turned.width, 360);
  EXPECT_EQ(turned.height, 480);
}

TEST(ExifOrientation, DctMinimumRefersToTheTurnedImage) {
  if (auto missing = test::missing_assets({"images/caffe/cat.jpg"}); !missing.empty()) GTEST_SKIP() << missing;
  // Stored 480x360, shown 360x480. At least 100 wide and 200 high as shown means at
  // least 200x100 as stored: 1/2 (240x180) is the smallest scale, 1/4 gives 120x90.
  const Bytes tagged = test::insert_exif_app1(test::read_asset("images/caffe/cat.jpg"),
                                              test::exif_tiff_with_orientation(6, true));
  DecodeOptions opts;
  opts.min_width = 100;
  opts.min_height = 200;
  const Image image = decode_ok(tagged, opts);
  EXPECT_EQ(image.width, 180);
  EXPECT_EQ(image.height, 240);
}

TEST(ExifOrientation, PngExifChunk) {
  const Image src = test::random_image(6, 4, 5);
  const Bytes png = test::encode_png(src.rgb, 6, 4, SPNG_COLOR_TYPE_TRUECOLOR, 8, {},
                                     test::exif_tiff_with_orientation(8, false));
  auto info = probe_image(png);
  ASSERT_TRUE(info.is_ok()) << info.status().message();
  EXPECT_EQ(info->exif_orientation, 8);
  const Image image = decode_ok(png);
  const Image want = test::orient_by_hand(src, 8);
  EXPECT_EQ(image.width, 4);
  EXPECT_EQ(image.height, 6);
  EXPECT_EQ(image.rgb, want.rgb);
}

}  // namespace
}  // namespace inferd::image
