// A loaded image classifier: model folder + engine + preprocessing + labels, and
// the path one image takes through them (decode -> tensor -> engine -> top-k).
// Used by `inferd classify` and by the server's request handlers.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "builder/builder.h"
#include "core/status.h"
#include "image/preprocess.h"
#include "runtime/engine.h"
#include "runtime/model_config.h"
#include "runtime/postprocess.h"

namespace inferd {

struct LoadOptions {
  int threads = 0;           // backend threads, 0 = all cores
  int max_batch = 0;         // 0 = the model config's
  std::string backend;       // "" = the model config's
  std::string precision;     // "" = the model config's
  int gpu = 0;               // the GPU a cuda backend runs on
  std::string gpus = "";     // served models: their instance group's GPUs ("all", "0,1"); "" = the config's
  bool cache_plans = false;  // keep built plans in <model dir>/.inferd-cache (the server does)
  size_t max_nodes = BuildOptions::kDefaultMaxNodes;  // larger models are refused (0 = no limit)
};

struct LoadedModel {
  ModelFolder folder;
  std::shared_ptr<const Engine> engine;
  image::PreprocessConfig preprocess;
  double load_ms = 0;
};

// `model` is a model folder (config.toml, labels.txt, N/model.onnx) or a model file
// (.onnx or .plan; `labels_path` optional then).
Result<LoadedModel> load_classifier(const std::string& model, const std::string& labels_path,
                                    const LoadOptions& options);

// How the folder's config (and mean image) preprocesses images for an input of
// `input_shape` [N,3,H,W].
Result<image::PreprocessConfig> model_preprocess(const ModelFolder& folder, const Shape& input_shape);

// The largest image (width * height) a request may send, on every decode path.
inline constexpr int64_t kMaxImagePixels = 64LL * 1024 * 1024;

// Decodes and preprocesses `image_bytes` into one sample of the model's input.
Status image_to_tensor(const LoadedModel& model, std::span<const uint8_t> image_bytes, float* sample);

// Runs samples already written into ctx.input_data(0) and returns top-k per sample.
Result<std::vector<std::vector<Prediction>>> classify_batch(const LoadedModel& model, ExecutionContext& ctx, int batch,
                                                            int k);

}  // namespace inferd
