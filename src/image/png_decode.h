// PNG decoding through libspng 0.7. Internal to the image module: callers use decode.h.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"
#include "image/image.h"

struct spng_ctx;

namespace inferd::image {

// One PNG stream: open() reads IHDR (and an eXIf chunk before the image data), decode()
// the pixels. Owns its spng context: one decoder per image, never shared between threads.
// The bytes must outlive the decoder.
class PngDecoder {
 public:
  static Result<PngDecoder> open(std::span<const uint8_t> bytes);

  const ImageInfo& info() const { return info_; }

  // Any colour type and bit depth to 8-bit RGB: gray replicated, palette expanded, alpha
  // dropped (not composited), 16-bit reduced to 8.
  Result<Image> decode();

 private:
  struct ContextCloser {
    void operator()(spng_ctx* ctx) const;
  };

  PngDecoder() = default;

  std::unique_ptr<spng_ctx, ContextCloser> ctx_;
  ImageInfo info_;
};

}  // namespace inferd::image
