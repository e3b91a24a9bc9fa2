#include "image/exif.h"

#include <cstddef>

namespace inferd::image {
namespace {

constexpr uint16_t kTiffMagic = 42;
constexpr uint16_t kOrientationTag = 0x0112;
constexpr uint16_t kTypeShort = 3;
constexpr size_t kIfdEntrySize = 12;  // tag u16, type u16, count u32, value/offset u32

// Bounds-checked reads in the TIFF's own byte order: every offset comes from the file.
class TiffReader {
 public:
  TiffReader(std::span<const uint8_t> data, bool little_endian)
      : data_(data), little_endian_(little_endian) {}

  bool u16(size_t offset, uint16_t* out) const {
    if (offset > data_.size() || data_.size() - offset < 2) return false;
    const uint8_t* p = data_.data() + offset;
    *out = little_endian_ ? static_cast<uint16_t>(p[0] | (p[1] << 8))
                          : static_cast<uint16_t>((p[0] << 8) | p[1]);
    return true;
  }

  bool u32(size_t offset, uint32_t* out) const {
    uint16_t a = 0, b = 0;
    if (!u16(offset, &a) || !u16(offset + 2, &b)) return false;
    *out = little_endian_ ? (uint32_t{b} << 16) | a : (uint32_t{a} << 16) | b;
    return true;
  }

 private:
  std::span<const uint8_t> data_;
  bool little_endian_;
};

}  // namespace

int exif_orientation_from_tiff(std::span<const uint8_t> tiff) {
  if (tiff.size() < 8) return 1;
  bool little_endian;
  if (tiff[0] == 'I' && tiff[1] == 'I') {
    little_endian = true;
  } else if (tiff[0] == 'M' && tiff[1] == 'M') {
    little_endian = false;
  } else {
    return 1;
  }
  const TiffReader reader(tiff, little_endian);
  uint16_t magic = 0, entry_count = 0;
  uint32_t ifd0 = 0;
  if (!reader.u16(2, &magic) || magic != kTiffMagic) return 1;
  if (!reader.u32(4, &ifd0) || !reader.u16(ifd0, &entry_count)) return 1;
  for (size_t i = 0; i < entry_count; ++i) {
    const size_t entry = size_t{ifd0} + 2 + i * kIfdEntrySize;
    uint16_t tag = 0, type = 0, value = 0;
    uint32_t count = 0;
    if (!reader.u16(entry, &tag) || !reader.u16(entry + 2, &type) ||
        !reader.u32(entry + 4, &count)) {
      return 1;
    }
    if (tag != kOrientationTag) continue;
    // A single SHORT fits in the value field, left-justified in either byte order.
    if (type != kTypeShort || count != 1 || !reader.u16(entry + 8, &value)) return 1;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

}  // namespace inferd::image
