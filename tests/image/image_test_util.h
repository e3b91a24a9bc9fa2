// Builders of test images for the image tests: encoded JPEG/PNG bytes made in memory with
// TurboJPEG and libspng, Exif segments, header patches, and seeded random pixels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image/image.h"
#include "support/test_util.h"

namespace inferd::image::test {

using Bytes = std::vector<uint8_t>;
using inferd::test::missing_assets;  // test::missing_assets in the image tests too

// The bytes of $INFERD_ASSETS/<relative>; fails the test (and returns empty) if unreadable.
// The shared assets are absent from a bare clone: check with inferd::test::missing_assets
// first and skip.
Bytes read_asset(const std::string& relative);

// The bytes of <repository>/<relative> (images/1.jpg..5.jpg, byte-identical to the assets'
// images/seed_gre/1.jpg..5.jpg); fails the test (and returns empty) if unreadable.
Bytes read_source_file(const std::string& relative);

// Uniform random bytes from a fixed seed.
Image random_image(int width, int height, uint32_t seed);

// TurboJPEG compression of interleaved pixels: pixel_format is a TJPF_* value (RGB, GRAY
// or CMYK), subsampling a TJSAMP_* value.
Bytes encode_jpeg(const std::vector<uint8_t>& pixels, int width, int height, int pixel_format,
                  int subsampling, int quality);

// A PNG of the given IHDR colour type and bit depth. `samples` is in spng's
// SPNG_FMT_PNG layout: packed rows, 16-bit samples in host byte order. `palette` holds
// RGB triples for colour type 3. `exif_tiff`, if not empty, is written as an eXIf chunk.
Bytes encode_png(const std::vector<uint8_t>& samples, int width, int height, int color_type,
                 int bit_depth, const std::vector<uint8_t>& palette = {},
                 const Bytes& exif_tiff = {});

// A TIFF structure whose IFD0 holds only the orientation tag (0x0112, SHORT).
Bytes exif_tiff_with_orientation(int orientation, bool little_endian);

// The JPEG with an APP1 "Exif" segment carrying `tiff` inserted right after SOI (fails
// the test and returns `jpeg` if it is too short to hold an SOI).
Bytes insert_exif_app1(const Bytes& jpeg, const Bytes& tiff);

// The JPEG with the size in its SOF segment overwritten (nothing else changes).
Bytes patch_jpeg_size(const Bytes& jpeg, int width, int height);

// Where source pixel (sx, sy) of a w x h image lands under EXIF orientation
// `orientation`, written independently of the library (forward, not inverse, mapping).
struct Position {
  int x, y;
};
Position oriented_position(int sx, int sy, int w, int h, int orientation);

// The image rotated/mirrored as EXIF orientation `orientation` asks, by oriented_position.
Image orient_by_hand(const Image& src, int orientation);

}  // namespace inferd::image::test
