#include "image/png_decode.h"

#include <spng.h>

#include <string>

#include "image/exif.h"

namespace inferd::image {
namespace {

// Memory guards for untrusted uploads. The caller's pixel limit is checked from IHDR
// before decoding; these bound what spng itself may allocate before that and for
// ancillary chunks (text, ICC profiles, ...), which are otherwise limited only by the
// 2^31-1 chunk length of the format.
constexpr uint32_t kMaxSide = 1u << 20;
constexpr size_t kMaxChunkBytes = 8u << 20;
constexpr size_t kMaxChunkCacheBytes = 32u << 20;

Status corrupt_png(int err) { return data_loss(std::string("corrupt PNG: ") + spng_strerror(err)); }

int channels_of(uint8_t color_type) {
  switch (color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE: return 1;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: return 2;
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA: return 4;
    default: return 3;  // truecolour, and indexed once the palette is applied
  }
}

}  // namespace

void PngDecoder::ContextCloser::operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }

Result<PngDecoder> PngDecoder::open(std::span<const uint8_t> bytes) {
  PngDecoder decoder;
  decoder.ctx_.reset(spng_ctx_new(0));
  spng_ctx* ctx = decoder.ctx_.get();
  if (ctx == nullptr) return internal_error("libspng: cannot create a decoder context");
  int err = spng_set_image_limits(ctx, kMaxSide, kMaxSide);
  if (err == 0) err = spng_set_chunk_limits(ctx, kMaxChunkBytes, kMaxChunkCacheBytes);
  if (err == 0) err = spng_set_png_buffer(ctx, bytes.data(), bytes.size());
  if (err != 0) return internal_error(std::string("libspng: ") + spng_strerror(err));
  spng_ihdr ihdr{};
  if (int e = spng_get_ihdr(ctx, &ihdr); e != 0) return corrupt_png(e);
  decoder.info_ = {ImageFormat::kPng, static_cast<int>(ihdr.width), static_cast<int>(ihdr.height),
                   channels_of(ihdr.color_type), 1};
  // eXIf (PNG 1.5 extension), from the chunks before the first IDAT. Reading them is also
  // where spng checks IHDR's CRC and the chunks that follow it, so errors other than
  // "no such chunk" are real (and leave the context unusable).
  spng_exif exif{};
  if (int e = spng_get_exif(ctx, &exif); e == 0 && exif.data != nullptr) {
    decoder.info_.exif_orientation = exif_orientation_from_tiff(
        {reinterpret_cast<const uint8_t*>(exif.data), exif.length});
  } else if (e != 0 && e != SPNG_ECHUNKAVAIL) {
    return corrupt_png(e);
  }
  return decoder;
}

Result<Image> PngDecoder::decode() {
  spng_ctx* ctx = ctx_.get();
  size_t size = 0;
  if (int e = spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &size); e != 0) return corrupt_png(e);
  Image image;
  image.width = info_.width;
  image.height = info_.height;
  image.rgb.resize(size);
  if (int e = spng_decode_image(ctx, image.rgb.data(), size, SPNG_FMT_RGB8, 0); e != 0) {
    return corrupt_png(e);
  }
  return image;
}

}  // namespace inferd::image
