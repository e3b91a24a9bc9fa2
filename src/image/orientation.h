// Turning an image as stored into the image as it is meant to be seen (EXIF orientation).
#pragma once

#include "image/image.h"

namespace inferd::image {

// Applies EXIF orientation 1..8 (CIPA DC-008 tag 0x0112): 2 mirror left-right,
// 3 rotate 180, 4 mirror top-bottom, 5 transpose, 6 rotate 90 clockwise, 7 transverse,
// 8 rotate 90 counter-clockwise (the same as PIL's ImageOps.exif_transpose). 5..8 swap
// width and height. 1 and values outside 1..8 return the image unchanged.
Image apply_exif_orientation(Image image, int orientation);

}  // namespace inferd::image
