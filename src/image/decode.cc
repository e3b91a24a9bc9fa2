#include "image/decode.h"

#include <cstring>
#include <string>
#include <utility>

#include "image/jpeg_decode.h"
#include "image/orientation.h"
#include "image/png_decode.h"

namespace inferd::image {
namespace {

constexpr uint8_t kJpegMagic[] = {0xFF, 0xD8, 0xFF};  // SOI + the first marker's 0xFF
constexpr uint8_t kPngMagic[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

template <size_t N>
bool has_magic(std::span<const uint8_t> bytes, const uint8_t (&magic)[N]) {
  return bytes.size() >= N && std::memcmp(bytes.data(), magic, N) == 0;
}

Result<ImageFormat> sniff_format(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return invalid_argument("empty image");
  if (has_magic(bytes, kJpegMagic)) return ImageFormat::kJpeg;
  if (has_magic(bytes, kPngMagic)) return ImageFormat::kPng;
  return invalid_argument("unsupported image format (expected JPEG or PNG)");
}

Status check_pixel_limit(const ImageInfo& info, int64_t max_pixels) {
  const int64_t pixels = int64_t{info.width} * info.height;
  if (max_pixels <= 0 || pixels <= max_pixels) return Status::ok();
  return resource_exhausted("image is " + std::to_string(info.width) + "x" +
                            std::to_string(info.height) + ", limit is " +
                            std::to_string(max_pixels) + " pixels");
}

Result<Image> decode_jpeg(std::span<const uint8_t> bytes, const DecodeOptions& opts) {
  ASSIGN_OR_RETURN(JpegDecoder decoder, JpegDecoder::open(bytes));
  RETURN_IF_ERROR(check_pixel_limit(decoder.info(), opts.max_pixels));
  const int orientation = opts.apply_exif_orientation ? decoder.info().exif_orientation : 1;
  // The minimum is for the image as returned; 5..8 swap the stored sides.
  const bool swaps = orientation >= 5 && orientation <= 8;
  ASSIGN_OR_RETURN(Image image, decoder.decode(swaps ? opts.min_height : opts.min_width,
                                               swaps ? opts.min_width : opts.min_height));
  return apply_exif_orientation(std::move(image), orientation);
}

Result<Image> decode_png(std::span<const uint8_t> bytes, const DecodeOptions& opts) {
  ASSIGN_OR_RETURN(PngDecoder decoder, PngDecoder::open(bytes));
  RETURN_IF_ERROR(check_pixel_limit(decoder.info(), opts.max_pixels));
  const int orientation = opts.apply_exif_orientation ? decoder.info().exif_orientation : 1;
  ASSIGN_OR_RETURN(Image image, decoder.decode());
  return apply_exif_orientation(std::move(image), orientation);
}

}  // namespace

const char* to_string(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
  }
  return "unknown";
}

Result<ImageInfo> probe_image(std::span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(ImageFormat format, sniff_format(bytes));
  if (format == ImageFormat::kJpeg) {
    ASSIGN_OR_RETURN(JpegDecoder decoder, JpegDecoder::open(bytes));
    return decoder.info();
  }
  ASSIGN_OR_RETURN(PngDecoder decoder, PngDecoder::open(bytes));
  return decoder.info();
}

Status check_decode_cost(const ImageInfo& info) {
  if (info.format != ImageFormat::kJpeg) return Status::ok();
  return check_jpeg_decode_cost(info.width, info.height, info.scans);
}

Result<Image> decode_image(std::span<const uint8_t> bytes, const DecodeOptions& opts) {
  ASSIGN_OR_RETURN(ImageFormat format, sniff_format(bytes));
  return format == ImageFormat::kJpeg ? decode_jpeg(bytes, opts) : decode_png(bytes, opts);
}

}  // namespace inferd::image
