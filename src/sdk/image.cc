// loadImage / topK: the server's own preprocessing (image/preprocess.h) and
// postprocessing (runtime/postprocess.h), so that a program using the API classifies
// exactly as `inferd classify` does.
#include <algorithm>

#include "core/file.h"
#include "image/decode.h"
#include "image/preprocess.h"
#include "inferd/image.h"
#include "runtime/model_config.h"
#include "runtime/postprocess.h"
#include "sdk/sdk_internal.h"

namespace inferd::v1 {
namespace {

image::PreprocessConfig config_of(const ImagePreprocessing& p) {
  image::PreprocessConfig c;
  c.width = p.width;
  c.height = p.height;
  c.resize = p.resize;
  c.channel_order = p.bgr ? image::ChannelOrder::kBgr : image::ChannelOrder::kRgb;
  c.scale = p.scale;
  std::copy(p.mean, p.mean + 3, c.mean.begin());
  std::copy(p.std, p.std + 3, c.std.begin());
  return c;
}

}  // namespace

Result<std::vector<float>> decodeImage(const void* bytes, size_t size, const ImagePreprocessing& preprocessing) {
  return exception_barrier("decodeImage", [&]() -> Result<std::vector<float>> {
    if (bytes == nullptr || size == 0) return Status(StatusCode::kInvalidArgument, "decodeImage: no bytes");
    if (preprocessing.width < 1 || preprocessing.height < 1 || preprocessing.width > 16384 ||
        preprocessing.height > 16384)
      return Status(StatusCode::kInvalidArgument, "decodeImage: output size " + std::to_string(preprocessing.width) +
                                                      "x" + std::to_string(preprocessing.height) +
                                                      " is outside 1..16384");
    std::vector<float> out(3 * static_cast<size_t>(preprocessing.width) * static_cast<size_t>(preprocessing.height));
    const inferd::Status s =
        image::decode_and_preprocess({static_cast<const uint8_t*>(bytes), size}, config_of(preprocessing),
                                     image::DecodeOptions{}.max_pixels, out.data());
    if (!s.is_ok()) return to_public(s);
    return out;
  });
}

Result<std::vector<float>> loadImage(const std::string& path, const ImagePreprocessing& preprocessing) {
  return exception_barrier("loadImage", [&]() -> Result<std::vector<float>> {
    auto bytes = read_file(path);
    if (!bytes.is_ok()) return status_of(bytes);
    auto tensor = decodeImage(bytes.value().data(), bytes.value().size(), preprocessing);
    if (!tensor.isOk()) return Status(tensor.status().code(), path + ": " + tensor.status().message());
    return tensor;
  });
}

std::vector<Class> topK(const float* scores, int count, int k, const std::vector<std::string>& labels,
                        bool applySoftmax) {
  if (scores == nullptr || count <= 0 || k <= 0) return {};
  std::vector<float> row(scores, scores + count);
  if (applySoftmax) softmax(row);
  std::vector<Class> result;
  for (const Prediction& p : top_k(row, std::min(k, count), labels))
    result.push_back({p.index, p.confidence, p.label});
  return result;
}

Result<std::vector<std::string>> loadLabels(const std::string& path) {
  return exception_barrier("loadLabels", [&]() -> Result<std::vector<std::string>> {
    auto labels = read_labels(path);
    if (!labels.is_ok()) return status_of(labels);
    return std::move(labels).value();
  });
}

}  // namespace inferd::v1
