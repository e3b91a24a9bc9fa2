#include "image_test_util.h"

#include <gtest/gtest.h>
#include <spng.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <random>

#include "core/file.h"
#include "support/test_util.h"

namespace inferd::image::test {

namespace {

Bytes read_or_fail(const std::string& path) {
  auto bytes = read_file(path);
  EXPECT_TRUE(bytes.is_ok()) << bytes.status().message();
  return bytes.is_ok() ? std::move(bytes).value() : Bytes{};
}

}  // namespace

Bytes read_asset(const std::string& relative) { return read_or_fail(inferd::test::asset_path(relative)); }

Bytes read_source_file(const std::string& relative) {
  return read_or_fail(inferd::test::source_dir() + "/" + relative);
}

Image random_image(int width, int height, uint32_t seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(size_t(width) * height * 3);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(0, 255);
  for (uint8_t& v : image.rgb) v = static_cast<uint8_t>(dist(rng));
  return image;
}

Bytes encode_jpeg(const std::vector<uint8_t>& pixels, int width, int height, int pixel_format,
                  int subsampling, int quality) {
  tjhandle handle = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(handle, pixels.data(), width, 0, height, pixel_format, &jpeg, &size,
                             subsampling, quality, 0);
  EXPECT_EQ(rc, 0) << tjGetErrorStr2(handle);
  Bytes out(jpeg, jpeg + (rc == 0 ? size : 0));
  tjFree(jpeg);
  tjDestroy(handle);
  return out;
}

Bytes encode_png(const std::vector<uint8_t>& samples, int width, int height, int color_type,
                 int bit_depth, const std::vector<uint8_t>& palette, const Bytes& exif_tiff) {
  spng_ctx* ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{};
  ihdr.width = uint32_t(width);
  ihdr.height = uint32_t(height);
  ihdr.bit_depth = uint8_t(bit_depth);
  ihdr.color_type = uint8_t(color_type);
  EXPECT_EQ(spng_set_ihdr(ctx, &ihdr), 0);
  if (!palette.empty()) {
    spng_plte plte{};
    plte.n_entries = uint32_t(palette.size() / 3);
    for (uint32_t i = 0; i < plte.n_entries; ++i) {
      plte.entries[i] = {palette[i * 3], palette[i * 3 + 1], palette[i * 3 + 2], 0};
    }
    EXPECT_EQ(spng_set_plte(ctx, &plte), 0);
  }
  Bytes exif_copy = exif_tiff;  // spng_exif.data is not const
  if (!exif_copy.empty()) {
    spng_exif exif{exif_copy.size(), reinterpret_cast<char*>(exif_copy.data())};
    EXPECT_EQ(spng_set_exif(ctx, &exif), 0);
  }
  int err = spng_encode_image(ctx, samples.data(), samples.size(), SPNG_FMT_PNG,
                              SPNG_ENCODE_FINALIZE);
  EXPECT_EQ(err, 0) << spng_strerror(err);
  size_t size = 0;
  void* png = spng_get_png_buffer(ctx, &size, &err);
  EXPECT_EQ(err, 0) << spng_strerror(err);
  Bytes out(static_cast<uint8_t*>(png), static_cast<uint8_t*>(png) + (png ? size : 0));
  std::free(png);
  spng_ctx_free(ctx);
  return out;
}

Bytes exif_tiff_with_orientation(int orientation, bool little_endian) {
  auto u16 = [&](Bytes& b, int v) {
    const uint8_t lo = uint8_t(v & 0xFF), hi = uint8_t((v >> 8) & 0xFF);
    b.push_back(little_endian ? lo : hi);
    b.push_back(little_endian ? hi : lo);
  };
  auto u32 = [&](Bytes& b, uint32_t v) {
    if (little_endian) { u16(b, int(v & 0xFFFF)); u16(b, int(v >> 16)); }
    else { u16(b, int(v >> 16)); u16(b, int(v & 0xFFFF)); }
  };
  Bytes tiff = little_endian ? Bytes{'I', 'I'} : Bytes{'M', 'M'};
  u16(tiff, 42);
  u32(tiff, 8);        // IFD0 right after the header
  u16(tiff, 1);        // one entry
  u16(tiff, 0x0112);   // Orientation
  u16(tiff, 3);        // SHORT
  u32(tiff, 1);        // count
  u16(tiff, orientation);
  u16(tiff, 0);        // value field padding
  u32(tiff, 0);        // no next IFD
  return tiff;
}

Bytes insert_exif_app1(const Bytes& jpeg, const Bytes& tiff) {
  if (jpeg.size() < 2) {  // an unread file: reading jpeg[0] would crash the test
    ADD_FAILURE() << "insert_exif_app1: " << jpeg.size() << " bytes is no JPEG";
    return jpeg;
  }
  Bytes payload = {'E', 'x', 'i', 'f', 0, 0};
  payload.insert(payload.end(), tiff.begin(), tiff.end());
  const size_t length = payload.size() + 2;
  const uint8_t header[] = {jpeg[0], jpeg[1], 0xFF, 0xE1, uint8_t(length >> 8),
                            uint8_t(length & 0xFF)};  // SOI, then the APP1 marker and length
  // Sized up front and filled with std::copy: GCC 12 warns falsely on vector::insert here.
  Bytes out(sizeof(header) + payload.size() + jpeg.size() - 2);
  auto it = std::copy(std::begin(header), std::end(header), out.begin());
  it = std::copy(payload.begin(), payload.end(), it);
  std::copy(jpeg.begin() + 2, jpeg.end(), it);
  return out;
}

Bytes patch_jpeg_size(const Bytes& jpeg, int width, int height) {
  Bytes out = jpeg;
  size_t pos = 2;
  while (pos + 9 < out.size() && out[pos] == 0xFF) {
    const uint8_t marker = out[pos + 1];
    const size_t length = (size_t{out[pos + 2]} << 8) | out[pos + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): length, precision, height, width.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      out[pos + 5] = uint8_t(height >> 8);
      out[pos + 6] = uint8_t(height & 0xFF);
      out[pos + 7] = uint8_t(width >> 8);
      out[pos + 8] = uint8_t(width & 0xFF);
      return out;
    }
    pos += 2 + length;
  }
  ADD_FAILURE() << "no SOF segment found";
  return out;
}

Position oriented_position(int sx, int sy, int w, int h, int orientation) {
  switch (orientation) {
    case 2: return {w - 1 - sx, sy};          // mirror left-right
    case 3: return {w - 1 - sx, h - 1 - sy};  // rotate 180
    case 4: return {sx, h - 1 - sy};          // mirror top-bottom
    case 5: return {sy, sx};                  // transpose
    case 6: return {h - 1 - sy, sx};          // rotate 90 clockwise
    case 7: return {h - 1 - sy, w - 1 - sx};  // transverse
    case 8: return {sy, w - 1 - sx};          // rotate 90 counter-clockwise
    default: return {sx, sy};
  }
}

Image orient_by_hand(const Image& src, int orientation) {
  const int w = src.width, h = src.height;
  const bool swaps = orientation >= 5;
  Image out;
  out.width = swaps ? h : w;
  out.height = swaps ? w : h;
  out.rgb.resize(src.rgb.size());
  for (int sy = 0; sy < h; ++sy) {
    for (int sx = 0; sx < w; ++sx) {
      const Position d = oriented_position(sx, sy, w, h, orientation);
      for (int c = 0; c < 3; ++c) {
        out.rgb[(size_t(d.y) * out.width + d.x) * 3 + c] = src.rgb[(size_t(sy) * w + sx) * 3 + c];
      }
    }
  }
  return out;
}

}  // namespace inferd::image::test
