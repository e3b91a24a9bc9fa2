#include "support/squeezenet_int8.h"

#include <algorithm>
#include <vector>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "core/file.h"
#include "runtime/engine.h"
#include "server/calibrator.h"
#include "server/classifier.h"
#include "support/model_env.h"
#include "support/test_util.h"

namespace inferd::test {
namespace {

// Top-1 of every image through a plan built for `backend` with `options`; `int8_layers`
// (optional) gets how many of the plan's layers take an INT8 input.
Result<std::vector<int>> top1_of(const ModelFolder& folder, const std::string& backend, const BuildOptions& options,
                                 const std::vector<std::string>& paths, size_t* int8_layers = nullptr) {
  ASSIGN_OR_RETURN(auto device, create_backend(backend, BackendOptions{}));
  ASSIGN_OR_RETURN(auto built, build_plan(folder.model_path, *device, options));
  if (int8_layers)
    *int8_layers = static_cast<size_t>(std::count_if(built.plan.graph.nodes().begin(), built.plan.graph.nodes().end(),
                                                     [](const ir::Node& n) { return n.attrs.has("input_scale"); }));
  ASSIGN_OR_RETURN(auto engine, Engine::create(std::move(built.plan), device));
  ASSIGN_OR_RETURN(auto ctx, engine->create_context());
  ASSIGN_OR_RETURN(const image::PreprocessConfig pre, model_preprocess(folder, engine->inputs()[0].shape));
  const auto classes = static_cast<size_t>(element_count(ctx->output_shape(0, 1)));
  std::vector<int> top;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(auto bytes, read_file(path));
    RETURN_IF_ERROR(image::decode_and_preprocess(bytes, pre, int64_t{1} << 26, ctx->input_data(0)));
    RETURN_IF_ERROR(ctx->execute(1));
    const float* out = ctx->output_data(0);
    top.push_back(static_cast<int>(std::max_element(out, out + classes) - out));
  }
  return top;
}

}  // namespace

Result<Int8Evaluation> evaluate_squeezenet_int8(const std::string& backend, const std::string& precision,
                                                bool every_layer_int8, bool e4m3) {
  std::vector<OrtPrediction> sample = read_ort_predictions();
  if (sample.size() != 334) return failed_precondition("the ImageNet sample's 334 predictions are not there");
  std::sort(sample.begin(), sample.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
  const std::string dir = assets_dir() + "/images/imagenet_sample/";
  CalibrationOptions calibration;
  calibration.e4m3 = e4m3;
  if (e4m3) calibration.method = "max";
  std::vector<std::string> eval;
  std::vector<int> truth;
  for (size_t i = 0; i < sample.size(); ++i) {  // every third-ish image calibrates: 100 spread over the classes
    if (i % 10 < 3 && calibration.images.size() < 100) {
      calibration.images.push_back(dir + sample[i].file);
    } else {
      eval.push_back(dir + sample[i].file);
      truth.push_back(sample[i].ground_truth);
    }
  }
  ASSIGN_OR_RETURN(const ModelFolder folder, load_model(source_dir() + "/models/squeezenet", ""));
  ASSIGN_OR_RETURN(CalibrationTable table, calibrate_model(folder, calibration));
  Int8Evaluation e;
  e.activations = table.entries.size();
  for (const auto& entry : table.entries) e.int8 += entry.int8, e.uint8 += entry.int8 && entry.is_unsigned();
  // The answers to keep are the FP32 plan's (issue 16's bar), on the same backend; the INT8
  // plan computes its float layers in `precision`.
  BuildOptions fp32(1, "fp32"), int8(1, precision);
  int8.calibration = std::make_shared<const CalibrationTable>(std::move(table));
  int8.time_int8_layers = !every_layer_int8;
  ASSIGN_OR_RETURN(const std::vector<int> want, top1_of(folder, backend, fp32, eval));
  ASSIGN_OR_RETURN(const std::vector<int> got, top1_of(folder, backend, int8, eval, &e.int8_layers));
  e.images = eval.size();
  for (size_t i = 0; i < eval.size(); ++i) {
    e.agree += got[i] == want[i];
    e.right_fp32 += want[i] == truth[i];
    e.right_int8 += got[i] == truth[i];
  }
  return e;
}

}  // namespace inferd::test
