// Fuzzes image bytes -> model tensor: decode_and_preprocess (JPEG through TurboJPEG, PNG
// through libspng, EXIF orientation, DCT scaling, resize, crop, normalise), as the
// server's decode workers call it (image_to_tensor), with the server's pixel limit.
// The crop geometry varies with the input size (cheaper than a config prefix, and the
// seeds stay plain image files): a classifier's 224/256, a stretch to 224, and two tiny
// outputs, so that half the runs spend their time in the decoders.
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "fuzz_common.h"
#include "image/preprocess.h"

namespace {

namespace image = inferd::image;

// classifier.cc's kMaxImagePixels: what a request may declare before any pixel is decoded.
constexpr int64_t kServerMaxPixels = 64LL * 1024 * 1024;

image::PreprocessConfig config_for(size_t size) {
  image::PreprocessConfig c;  // 224x224 after resize 256, RGB, ImageNet mean/std
  switch (size % 4) {
    case 1:  // stretch, Caffe-style BGR 0..255
      c.resize = 0;
      c.channel_order = image::ChannelOrder::kBgr;
      c.scale = 1.0f;
      c.mean = {104, 117, 123};
      c.std = {1, 1, 1};
      break;
    case 2:  // tiny, non-square: most of the time goes to decoding
      c.width = 7;
      c.height = 5;
      c.resize = 9;
      break;
    case 3:  // tiny stretch
      c.width = c.height = 3;
      c.resize = 0;
      break;
    default:
      break;
  }
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inferd::fuzz::quiet_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const image::PreprocessConfig config = config_for(size);
  // Sized exactly (no spare room): a write past the tensor is an ASan report.
  std::vector<float> tensor(static_cast<size_t>(3 * config.width * config.height));
  const inferd::Status s =
      image::decode_and_preprocess(inferd::fuzz::bytes_of(data, size), config, kServerMaxPixels, tensor.data());
  if (!s.is_ok()) {
    FUZZ_CHECK(!s.message().empty(), "empty error message");
    return 0;
  }
  // Pixels are 0..255: every normalised value is bounded by the config.
  for (size_t i = 0; i < tensor.size(); ++i) {
    const int c = static_cast<int>(i / (tensor.size() / 3));
    const float lo = (0 - config.mean[c]) / config.std[c], hi = (255 * config.scale - config.mean[c]) / config.std[c];
    const float v = tensor[i];
    FUZZ_CHECK(std::isfinite(v) && v >= lo - 1e-3f && v <= hi + 1e-3f, std::to_string(v));
  }
  return 0;
}
