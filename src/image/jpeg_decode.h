// JPEG decoding through the TurboJPEG 2.1 API, with DCT-domain downscaling.
// Internal to the image module: callers use decode.h.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"
#include "image/image.h"

namespace inferd::image {

// A DCT scaling factor num/denom and the image size it gives.
struct JpegScale {
  int num = 1, denom = 1;
  int width = 0, height = 0;
};

// The smallest of the DCT scales 1/8, 1/4, 1/2 whose scaled size (rounded up, as
// TJSCALED) is at least min_width x min_height; 1/1 when none is that large. The other
// n/8 factors TurboJPEG offers are skipped: they decode slower than full size (see the
// .cc). min <= 0 means no constraint on that side; both <= 0 means full size.
JpegScale choose_jpeg_scale(int width, int height, int min_width, int min_height);

// One JPEG stream: open() reads the header and the APP1/APP14 markers, decode() the
// pixels. Owns its TurboJPEG handle: one decoder per image, never shared between threads.
// The bytes must outlive the decoder.
// What decoding a width x height JPEG with `scans` scans costs, against inferd's bounds
// (a scan count and pixel-scans): invalid_argument naming the figures when over, so that a
// hostile progressive image is refused before seconds of CPU are spent on it.
Status check_jpeg_decode_cost(int width, int height, int scans);

class JpegDecoder {
 public:
  static Result<JpegDecoder> open(std::span<const uint8_t> bytes);

  const ImageInfo& info() const { return info_; }

  // Decodes to RGB at choose_jpeg_scale(min_width, min_height). Grayscale is replicated;
  // CMYK/YCCK is converted (see cmyk_to_rgb in jpeg_decode.cc).
  Result<Image> decode(int min_width, int min_height);

 private:
  struct HandleCloser {
    void operator()(void* handle) const;
  };

  JpegDecoder() = default;

  std::unique_ptr<void, HandleCloser> handle_;
  std::span<const uint8_t> bytes_;
  ImageInfo info_;
  bool cmyk_ = false;       // CMYK or YCCK colour space
  bool has_adobe_ = false;  // APP14 "Adobe" present: CMYK samples are stored inverted
  int scans_ = 0;           // SOS segments in the file (count_jpeg_scans)
};

}  // namespace inferd::image
