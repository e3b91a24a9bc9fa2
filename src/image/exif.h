// EXIF orientation: the one EXIF field that changes which pixels a classifier sees.
#pragma once

#include <cstdint>
#include <span>

namespace inferd::image {

// Orientation (TIFF tag 0x0112, EXIF 2.32 / CIPA DC-008 section 4.6.4) read from IFD0 of
// the TIFF structure an Exif block carries (JPEG APP1 after "Exif\0\0", PNG eXIf as is).
// Both byte orders ("II" little-endian, "MM" big-endian, TIFF 6.0 section 2). Returns 1
// (as stored) when the tag is absent, malformed or outside 1..8: a bad tag must not fail
// a decode that can still produce pixels.
int exif_orientation_from_tiff(std::span<const uint8_t> tiff);

}  // namespace inferd::image
