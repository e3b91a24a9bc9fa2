// Bytes of an uploaded image -> 8-bit RGB pixels. JPEG (TurboJPEG) and PNG (libspng).
//
// Thread safety: every function is safe to call from any number of threads at once; each
// call owns its decoder state and nothing is global.
//
// Errors (the message is the whole contract; callers add the file or request name):
//   kInvalidArgument    "empty image", "unsupported image format (expected JPEG or PNG)"
//   kDataLoss           "corrupt JPEG: <TurboJPEG's reason>", "corrupt PNG: <spng's reason>"
//   kResourceExhausted  "image is WxH, limit is N pixels" (checked from the header, before
//                       any pixel is decoded)
#pragma once

#include <cstdint>
#include <span>

#include "core/status.h"
#include "image/image.h"

namespace inferd::image {

struct DecodeOptions {
  // JPEG only: decode at the smallest DCT scale (1/8, 1/4, 1/2, 1) whose result still has
  // width >= min_width and height >= min_height (0 = full size). The sizes are those of
  // the image as returned, i.e. after EXIF orientation. PNG is always full size. (The
  // 3/8, 5/8, ... scales TurboJPEG also offers decode slower than full size: not used.)
  int min_width = 0, min_height = 0;
  // Limit on width * height of the stored image, checked from the header before decoding.
  // <= 0 disables the check (trusted input only).
  int64_t max_pixels = 64LL * 1024 * 1024;
  // Rotate/mirror by the EXIF orientation tag (JPEG APP1, PNG eXIf) after decoding.
  bool apply_exif_orientation = true;
};

// Header only, no pixel decode: format, stored size, channels, EXIF orientation.
Result<ImageInfo> probe_image(std::span<const uint8_t> bytes);

Result<Image> decode_image(std::span<const uint8_t> bytes, const DecodeOptions& opts = {});

// The JPEG decode-cost bound decode_image applies (scan count and pixel-scans, from the
// header), for decoders elsewhere (a GPU's) fed by probe_image: kInvalidArgument naming the
// figures when over. OK for PNG.
Status check_decode_cost(const ImageInfo& info);

}  // namespace inferd::image
