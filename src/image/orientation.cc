#include "image/orientation.h"

#include <cstddef>
#include <cstdint>
#include <utility>

namespace inferd::image {
namespace {

// Output pixel (x, y) reads source pixel index origin + x * step_x + y * step_y: every
// one of the 8 orientations is such an affine walk over the source.
struct SourceWalk {
  int64_t origin, step_x, step_y;
};

SourceWalk source_walk(int orientation, int64_t w, int64_t h) {
  const int64_t last_row = (h - 1) * w, last_col = w - 1;
  switch (orientation) {
    case 2: return {last_col, -1, w};             // sx = W-1-x, sy = y
    case 3: return {last_row + last_col, -1, -w};  // sx = W-1-x, sy = H-1-y
    case 4: return {last_row, 1, -w};             // sx = x,     sy = H-1-y
    case 5: return {0, w, 1};                     // sx = y,     sy = x
    case 6: return {last_row, -w, 1};             // sx = y,     sy = H-1-x
    case 7: return {last_row + last_col, -w, -1};  // sx = W-1-y, sy = H-1-x
    case 8: return {last_col, w, -1};             // sx = W-1-y, sy = x
    default: return {0, 1, w};                    // 1: as stored
  }
}

}  // namespace

Image apply_exif_orientation(Image image, int orientation) {
  if (orientation < 2 || orientation > 8 || image.width == 0 || image.height == 0) return image;
  const bool swaps = orientation >= 5;
  Image out;
  out.width = swaps ? image.height : image.width;
  out.height = swaps ? image.width : image.height;
  out.rgb.resize(image.rgb.size());
  const SourceWalk walk = source_walk(orientation, image.width, image.height);
  const uint8_t* src = image.rgb.data();
  uint8_t* dst = out.rgb.data();
  for (int y = 0; y < out.height; ++y) {
    int64_t s = walk.origin + y * walk.step_y;
    for (int x = 0; x < out.width; ++x, s += walk.step_x, dst += 3) {
      const uint8_t* p = src + s * 3;
      dst[0] = p[0];
      dst[1] = p[1];
      dst[2] = p[2];
    }
  }
  return out;
}

}  // namespace inferd::image
