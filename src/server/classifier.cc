#include "server/classifier.h"

#include <chrono>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "core/file.h"

namespace inferd {
namespace {

image::PreprocessConfig preprocess_config(const InputConfig& in, const Shape& input_shape) {
  image::PreprocessConfig p;
  p.width = in.width > 0 ? in.width : static_cast<int>(input_shape.at(3));
  p.height = in.height > 0 ? in.height : static_cast<int>(input_shape.at(2));
  p.resize = in.resize;
  p.channel_order = in.channel_order == ChannelOrder::kBgr ? image::ChannelOrder::kBgr : image::ChannelOrder::kRgb;
  p.scale = in.scale;
  p.mean = in.mean;
  p.std = in.std;
  return p;
}

// The folder's mean image cropped at the centre to the input, as Caffe crops it with the
// image (its DataTransformer, TEST phase); `p` has the input size already.
Status add_mean_image(const ModelFolder& folder, image::PreprocessConfig& p) {
  if (folder.mean_path.empty()) return Status::ok();
  ASSIGN_OR_RETURN(Tensor mean, import_mean_image(folder.mean_path));
  const int64_t h = mean.shape()[1], w = mean.shape()[2];
  if (h < p.height || w < p.width)
    return invalid_argument(folder.mean_path + ": mean image " + std::to_string(w) + "x" + std::to_string(h) +
                            " is smaller than the input " + std::to_string(p.width) + "x" + std::to_string(p.height));
  const int64_t y0 = (h - p.height) / 2, x0 = (w - p.width) / 2;
  auto cropped = std::make_shared<std::vector<float>>();
  cropped->reserve(3 * static_cast<size_t>(p.width) * static_cast<size_t>(p.height));
  const float* src = mean.data<float>();
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = y0; y < y0 + p.height; ++y)
      cropped->insert(cropped->end(), src + (c * h + y) * w + x0, src + (c * h + y) * w + x0 + p.width);
  p.mean_image = std::move(cropped);
  return Status::ok();
}

// Before preprocess_config() reads the input shape.
Status check_classifier_input(const LoadedModel& m) {
  const auto& inputs = m.engine->inputs();
  if (inputs.size() != 1 || inputs[0].shape.size() != 4 || inputs[0].shape[1] != 3)
    return unimplemented(m.folder.model_path + ": a classifier needs one input of shape [N,3,H,W]");
  return Status::ok();
}

// The config's input size and labels against the model.
Status check_config_matches(const LoadedModel& m) {
  const auto& inputs = m.engine->inputs();
  const auto& p = m.preprocess;
  if (inputs[0].shape[2] != p.height || inputs[0].shape[3] != p.width)
    return invalid_argument(m.folder.dir + ": config input " + std::to_string(p.width) + "x" +
                            std::to_string(p.height) + " does not match the model's " + to_string(inputs[0].shape));
  Shape per_sample = m.engine->outputs().at(0).shape;
  per_sample[0] = 1;
  const auto classes = static_cast<size_t>(element_count(per_sample));
  if (!m.folder.labels.empty() && m.folder.labels.size() != classes)
    return invalid_argument(m.folder.dir + ": " + std::to_string(m.folder.labels.size()) +
                            " labels but the model outputs " + std::to_string(classes) + " classes");
  return Status::ok();
}

// Precision "int8" from a model folder (the server, `inferd classify`): the calibration table
// config.toml names (quantization.calibration) in the graph and its pinned float layers,
// the backend's float precision where a layer runs float, as `inferd build --precision int8`
// builds.
// A folder's plan was built already: nothing to apply.
Status use_folder_calibration(const ModelFolder& folder, const Backend& backend, BuildOptions& build) {
  if (folder.model_path.ends_with(".plan")) return Status::ok();
  const std::string& precision = build.precision;  // int8 or fp8
  if (folder.calibration_path.empty())
    return failed_precondition(folder.dir + ": precision \"" + precision +
                               "\" needs a calibration table: set quantization.calibration in config.toml to a file "
                               "made by `inferd build MODEL --precision " + precision +
                               " --calibration IMAGES` (docs/quantization.md)");
  constexpr size_t kMaxTableBytes = size_t{4} << 20;  // one short line per activation
  Result<std::string> read = read_text_file(folder.calibration_path);
  if (!read.is_ok()) return read.status().with_context(folder.dir + ": quantization.calibration");
  const std::string& text = *read;
  if (text.size() > kMaxTableBytes)
    return invalid_argument(folder.calibration_path + ": " + std::to_string(text.size()) +
                            " bytes; a calibration table has at most " + std::to_string(kMaxTableBytes));
  ASSIGN_OR_RETURN(CalibrationTable table, CalibrationTable::parse(text, folder.calibration_path));
  RETURN_IF_ERROR(table.check_kind(precision == "fp8", folder.calibration_path));
  build.calibration = std::make_shared<const CalibrationTable>(std::move(table));
  const auto& pinned = folder.config.quantization.float_layers;
  build.float_layers = std::set<std::string>(pinned.begin(), pinned.end());
  build.time_int8_layers = folder.config.quantization.int8_layers == "timed";
  build.precision = int8_float_precision(backend);
  return Status::ok();
}

}  // namespace

Result<LoadedModel> load_classifier(const std::string& model, const std::string& labels_path,
                                    const LoadOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  LoadedModel m;
  ASSIGN_OR_RETURN(m.folder, load_model(model, labels_path));
  const auto& cfg = m.folder.config;
  ASSIGN_OR_RETURN(auto backend, create_backend(options.backend.empty() ? cfg.instances.backend : options.backend,
                                                BackendOptions{options.threads, options.gpu}));
  BuildOptions build;
  build.max_batch = options.max_batch > 0 ? options.max_batch : cfg.max_batch;
  build.precision = options.precision.empty() ? cfg.instances.precision : options.precision;
  build.max_nodes = options.max_nodes;
  build.weights_path = m.folder.weights_path;
  if (build.precision == "int8" || build.precision == "fp8")
    RETURN_IF_ERROR(use_folder_calibration(m.folder, *backend, build));
  ASSIGN_OR_RETURN(auto plan, options.cache_plans ? load_or_build_cached(m.folder.model_path, *backend, build)
                                                  : load_or_build(m.folder.model_path, *backend, build));
  ASSIGN_OR_RETURN(m.engine, Engine::create(std::move(plan), backend));
  RETURN_IF_ERROR(check_classifier_input(m));
  m.preprocess = preprocess_config(cfg.input, m.engine->inputs()[0].shape);
  RETURN_IF_ERROR(check_config_matches(m));
  RETURN_IF_ERROR(add_mean_image(m.folder, m.preprocess));
  m.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return m;
}

Result<image::PreprocessConfig> model_preprocess(const ModelFolder& folder, const Shape& input_shape) {
  image::PreprocessConfig p = preprocess_config(folder.config.input, input_shape);
  RETURN_IF_ERROR(add_mean_image(folder, p));
  return p;
}

Status image_to_tensor(const LoadedModel& model, std::span<const uint8_t> image_bytes, float* sample) {
  return image::decode_and_preprocess(image_bytes, model.preprocess, kMaxImagePixels, sample);
}

Result<std::vector<std::vector<Prediction>>> classify_batch(const LoadedModel& model, ExecutionContext& ctx, int batch,
                                                            int k) {
  RETURN_IF_ERROR(ctx.execute(batch));
  const auto per_sample = static_cast<size_t>(element_count(ctx.output_shape(0, 1)));
  std::vector<std::vector<Prediction>> results;
  std::vector<float> row(per_sample);
  for (int b = 0; b < batch; ++b) {
    const float* out = ctx.output_data(0) + static_cast<size_t>(b) * per_sample;
    row.assign(out, out + per_sample);
    if (model.folder.config.output.softmax) softmax(row);
    results.push_back(top_k(row, k, model.folder.labels));
  }
  return results;
}

}  // namespace inferd
