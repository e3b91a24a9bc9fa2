// The values the image module hands around: what a header says (ImageInfo) and a
// decoded picture (Image, always 8-bit RGB interleaved whatever the file held).
#pragma once

#include <cstdint>
#include <vector>

namespace inferd::image {

enum class ImageFormat { kJpeg, kPng };

const char* to_string(ImageFormat format);

// What the file's header says, before any pixel is decoded.
struct ImageInfo {
  ImageFormat format = ImageFormat::kJpeg;
  int width = 0;     // as stored, before any EXIF rotation
  int height = 0;
  int channels = 0;  // as stored: 1 gray, 2 gray+alpha, 3 colour, 4 RGBA (PNG) or CMYK (JPEG)
  int exif_orientation = 1;  // EXIF tag 0x0112 (1..8, 1 = as stored); 5..8 swap width and height
  int scans = 0;             // JPEG: SOS segments in the file (what a decode costs); 0 for PNG
};

// 8-bit RGB, interleaved, row-major, no row padding: rgb.size() == width * height * 3.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

}  // namespace inferd::image
