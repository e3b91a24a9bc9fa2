#include "image/jpeg_markers.h"

#include <cstddef>
#include <cstring>

#include "image/exif.h"

namespace inferd::image {
namespace {

constexpr uint8_t kApp1 = 0xE1;
constexpr uint8_t kApp14 = 0xEE;
constexpr uint8_t kSos = 0xDA;
constexpr uint8_t kEoi = 0xD9;
constexpr uint8_t kSoi = 0xD8;
constexpr uint8_t kTem = 0x01;

bool starts_with(std::span<const uint8_t> bytes, const char* prefix, size_t n) {
  return bytes.size() >= n && std::memcmp(bytes.data(), prefix, n) == 0;
}

// Markers without a length field (T.81 table B.1): SOI, EOI, TEM and RST0..7.
bool is_standalone(uint8_t marker) {
  return marker == kSoi || marker == kEoi || marker == kTem || (marker >= 0xD0 && marker <= 0xD7);
}

}  // namespace

JpegMarkers scan_jpeg_markers(std::span<const uint8_t> jpeg) {
  JpegMarkers found;
  bool have_exif = false;
  size_t pos = 2;  // after SOI
  while (pos + 2 <= jpeg.size()) {
    if (jpeg[pos] != 0xFF) break;
    const uint8_t marker = jpeg[pos + 1];
    if (marker == 0xFF) {  // fill byte before a marker
      ++pos;
      continue;
    }
    if (marker == kSos || marker == kEoi) break;
    if (is_standalone(marker)) {
      pos += 2;
      continue;
    }
    if (pos + 4 > jpeg.size()) break;
    const size_t length = (size_t{jpeg[pos + 2]} << 8) | jpeg[pos + 3];  // includes itself
    if (length < 2 || pos + 2 + length > jpeg.size()) break;
    const std::span<const uint8_t> payload = jpeg.subspan(pos + 4, length - 2);
    if (marker == kApp1 && !have_exif && starts_with(payload, "Exif\0\0", 6)) {
      found.exif_orientation = exif_orientation_from_tiff(payload.subspan(6));
      have_exif = true;
    } else if (marker == kApp14 && starts_with(payload, "Adobe", 5)) {
      found.has_adobe = true;
    }
    pos += 2 + length;
  }
  return found;
}

int count_jpeg_scans(std::span<const uint8_t> jpeg) {
  int scans = 0;
  size_t pos = 2;  // after SOI
  while (pos + 4 <= jpeg.size()) {
    if (jpeg[pos] != 0xFF) {  // inside entropy-coded data: find the next real marker
      ++pos;
      continue;
    }
    const uint8_t marker = jpeg[pos + 1];
    if (marker == 0xFF || marker == 0x00 || (marker >= 0xD0 && marker <= 0xD7)) {
      pos += marker == 0xFF ? 1 : 2;  // fill byte, stuffed 0xFF, restart marker
      continue;
    }
    if (marker == kEoi) break;
    if (is_standalone(marker)) {
      pos += 2;
      continue;
    }
    const size_t length = (size_t{jpeg[pos + 2]} << 8) | jpeg[pos + 3];
    if (length < 2) break;
    scans += marker == kSos;
    pos += 2 + length;  // entropy-coded data (after an SOS) is skipped byte by byte above
  }
  return scans;
}

}  // namespace inferd::image
