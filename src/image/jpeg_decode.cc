#include "image/jpeg_decode.h"

#include <turbojpeg.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "image/jpeg_markers.h"

namespace inferd::image {
namespace {

// libjpeg warnings that leave every pixel intact (jerror.h JWRN_EXTRANEOUS_DATA,
// JWRN_JFIF_MAJOR, JWRN_ADOBE_XFORM). Every other warning means lost image data (above
// all "Premature end of JPEG file" for a truncated upload, which libjpeg would otherwise
// fill with grey) and fails the decode. libjpeg reports only its first warning, so a
// benign one can hide a later one: an accepted trade-off for never rejecting files that
// every browser shows.
bool is_benign_warning(std::string_view message) {
  return message.find("extraneous bytes before marker") != std::string_view::npos ||
         message.find("unknown JFIF revision") != std::string_view::npos ||
         message.find("Unknown Adobe color transform") != std::string_view::npos;
}

Status corrupt_jpeg(tjhandle handle) {
  return data_loss(std::string("corrupt JPEG: ") + tjGetErrorStr2(handle));
}

// TurboJPEG returns -1 both for errors and for warnings (TJERR_WARNING).
Status decode_status(tjhandle handle, int rc) {
  if (rc == 0) return Status::ok();
  if (tjGetErrorCode(handle) == TJERR_WARNING && is_benign_warning(tjGetErrorStr2(handle))) {
    return Status::ok();
  }
  return corrupt_jpeg(handle);
}

// Decode cost bounds, checked before any pixel is decoded. A progressive JPEG costs about
// one pass over every coefficient per scan: ~900 scans over 8192x8192 took 12-14 s of CPU
// (issue 13). Common encoders write 10 scans or fewer (libjpeg-turbo's and Pillow's
// progressive mode: 10), so 64 leaves room for unusual scan scripts; the pixel-scan budget
// admits the largest image inferd decodes (64 MP) with up to 16 scans, a 12 MP photo with 64.
constexpr int kMaxJpegScans = 64;
constexpr int64_t kMaxPixelScans = int64_t{1} << 30;

uint8_t mul_div_255(int a, int b) { return static_cast<uint8_t>((a * b + 127) / 255); }

// CMYK -> RGB without a colour profile: R = (1 - C)(1 - K), likewise G from M and B
// from Y (the formula PIL uses). Adobe (Photoshop) writes CMYK JPEGs with every sample
// inverted (stored = 255 - ink) and marks them with an APP14 "Adobe" segment; libjpeg
// also writes that segment for CMYK, and PIL treats every such file as inverted, so do
// we. Stored inverted, 255 - ink is the sample itself.
void cmyk_to_rgb(const std::vector<uint8_t>& cmyk, bool inverted, uint8_t* rgb) {
  const size_t pixels = cmyk.size() / 4;
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t* p = &cmyk[i * 4];
    const int c = inverted ? p[0] : 255 - p[0], m = inverted ? p[1] : 255 - p[1];
    const int y = inverted ? p[2] : 255 - p[2], k = inverted ? p[3] : 255 - p[3];
    rgb[i * 3 + 0] = mul_div_255(c, k);
    rgb[i * 3 + 1] = mul_div_255(m, k);
    rgb[i * 3 + 2] = mul_div_255(y, k);
  }
}

int channels_of(int colorspace) {
  switch (colorspace) {
    case TJCS_GRAY: return 1;
    case TJCS_CMYK:
    case TJCS_YCCK: return 4;
    default: return 3;
  }
}

}  // namespace

JpegScale choose_jpeg_scale(int width, int height, int min_width, int min_height) {
  JpegScale best{1, 1, width, height};
  if (min_width <= 0 && min_height <= 0) return best;  // no constraint: full size
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  if (factors == nullptr) return best;
  for (int i = 0; i < count; ++i) {
    const tjscalingfactor f = factors[i];
    // Only 1/2, 1/4 and 1/8 (and 1/1): libjpeg-turbo has SIMD IDCTs for those, while the
    // other n/8 scales run a plain C IDCT and measured slower than a full-size decode
    // (1546x1213 photo: 1/1 18 ms, 1/2 17, 1/4 15, 3/4 24, 7/8 31). Upscaling is the
    // resampler's job.
    if (f.num != 1) continue;
    const int w = TJSCALED(width, f), h = TJSCALED(height, f);
    if (w < min_width || h < min_height) continue;
    if (f.num * best.denom < best.num * f.denom) best = {f.num, f.denom, w, h};
  }
  return best;
}

Status check_jpeg_decode_cost(int width, int height, int scans) {
  if (scans > kMaxJpegScans)
    return invalid_argument("JPEG has " + std::to_string(scans) + " scans; at most " + std::to_string(kMaxJpegScans) +
                            " are decoded (common encoders write 10 or fewer)");
  const int64_t cost = int64_t{width} * height * std::max(scans, 1);
  if (cost > kMaxPixelScans)
    return invalid_argument("JPEG of " + std::to_string(width) + "x" + std::to_string(height) + " with " +
                            std::to_string(scans) + " scans is too costly to decode (" + std::to_string(cost) +
                            " pixel-scans; at most " + std::to_string(kMaxPixelScans) + ")");
  return Status::ok();
}

void JpegDecoder::HandleCloser::operator()(void* handle) const { tjDestroy(handle); }

Result<JpegDecoder> JpegDecoder::open(std::span<const uint8_t> bytes) {
  JpegDecoder decoder;
  decoder.handle_.reset(tjInitDecompress());
  if (!decoder.handle_) return internal_error(std::string("TurboJPEG: ") + tjGetErrorStr2(nullptr));
  tjhandle handle = decoder.handle_.get();
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  const int rc = tjDecompressHeader3(handle, bytes.data(), bytes.size(), &width, &height,
                                     &subsampling, &colorspace);
  RETURN_IF_ERROR(decode_status(handle, rc));
  // A header cut short is only a warning to libjpeg, which returns 0 and a size of 0.
  if (width <= 0 || height <= 0) return corrupt_jpeg(handle);
  decoder.scans_ = count_jpeg_scans(bytes);
  const JpegMarkers markers = scan_jpeg_markers(bytes);
  decoder.bytes_ = bytes;
  decoder.info_ = {ImageFormat::kJpeg, width, height, channels_of(colorspace),
                   markers.exif_orientation, decoder.scans_};
  decoder.cmyk_ = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  decoder.has_adobe_ = markers.has_adobe;
  return decoder;
}

Result<Image> JpegDecoder::decode(int min_width, int min_height) {
  // After the caller's pixel limit (its message is the clearer one for a huge image),
  // before any pixel is decoded.
  RETURN_IF_ERROR(check_jpeg_decode_cost(info_.width, info_.height, scans_));
  const JpegScale scale = choose_jpeg_scale(info_.width, info_.height, min_width, min_height);
  tjhandle handle = handle_.get();
  Image image;
  image.width = scale.width;
  image.height = scale.height;
  const size_t pixels = size_t(scale.width) * size_t(scale.height);
  image.rgb.resize(pixels * 3);
  // Accurate integer IDCT and fancy upsampling, libjpeg's defaults, as PIL uses; libjpeg's
  // own scan limit (TJFLAG_LIMITSCANS) stays on behind check_jpeg_decode_cost.
  if (cmyk_) {
    std::vector<uint8_t> cmyk(pixels * 4);
    RETURN_IF_ERROR(decode_status(
        handle, tjDecompress2(handle, bytes_.data(), bytes_.size(), cmyk.data(), scale.width,
                              0, scale.height, TJPF_CMYK, TJFLAG_LIMITSCANS)));
    cmyk_to_rgb(cmyk, has_adobe_, image.rgb.data());
  } else {
    RETURN_IF_ERROR(decode_status(
        handle, tjDecompress2(handle, bytes_.data(), bytes_.size(), image.rgb.data(),
                              scale.width, 0, scale.height, TJPF_RGB, TJFLAG_LIMITSCANS)));
  }
  return image;
}

}  // namespace inferd::image
