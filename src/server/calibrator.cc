#include "server/calibrator.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "backends/api/registry.h"
#include "builder/builder.h"
#include "core/file.h"
#include "runtime/engine.h"
#include "server/classifier.h"

namespace inferd {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kMaxCalibrationPixels = 64LL * 1024 * 1024;
constexpr size_t kMixedPrecisionSamples = 64;

Result<std::vector<std::string>> calibration_images(const CalibrationOptions& o) {
  if (!o.images.empty()) return o.images;
  std::error_code ec;
  std::vector<std::string> paths;
  for (fs::directory_iterator it(o.images_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (it->is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png")) paths.push_back(it->path());
  }
  if (ec) return not_found(o.images_dir + ": cannot list the calibration images: " + ec.message());
  std::sort(paths.begin(), paths.end());
  if (o.max_images > 0 && paths.size() > static_cast<size_t>(o.max_images))
    paths.resize(static_cast<size_t>(o.max_images));
  if (paths.empty()) return not_found(o.images_dir + ": no *.jpg, *.jpeg or *.png image to calibrate with");
  return paths;
}

// The FP32 CPU engine of the folder's model with every calibration target as an extra
// output; `names` gets the targets' names.
Result<std::shared_ptr<const Engine>> measuring_engine(const ModelFolder& folder, std::vector<std::string>& names) {
  BuildOptions build(1, "fp32");
  build.weights_path = folder.weights_path;
  ASSIGN_OR_RETURN(ir::Graph g, import_model(folder.model_path, build));
  for (ir::ValueId x : calibration_targets(g)) {
    names.push_back(g.value(x).name);
    if (!g.is_graph_output(x)) g.outputs.push_back(x);
  }
  ASSIGN_OR_RETURN(auto cpu, create_backend("cpu", BackendOptions{}));
  ASSIGN_OR_RETURN(BuildResult built, optimize_graph(std::move(g), *cpu, build));
  return Engine::create(std::move(built.plan), cpu);
}

using Rows = std::vector<std::vector<float>>;

// Output 0 of every sample through the folder's model, FP32 on the CPU, with `table` applied
// (null: none).
Result<Rows> outputs_with(const ModelFolder& folder, const CalibrationTable* table, const Rows& samples) {
  BuildOptions build(1, "fp32");
  build.weights_path = folder.weights_path;
  if (table) build.calibration = std::make_shared<const CalibrationTable>(*table);
  build.time_int8_layers = false;  // a layer left float computes the same numbers: no clock needed
  ASSIGN_OR_RETURN(auto cpu, create_backend("cpu", BackendOptions{}));
  ASSIGN_OR_RETURN(BuildResult built, build_plan(folder.model_path, *cpu, build));
  ASSIGN_OR_RETURN(auto engine, Engine::create(std::move(built.plan), cpu));
  ASSIGN_OR_RETURN(auto ctx, engine->create_context());
  const auto size = static_cast<size_t>(element_count(ctx->output_shape(0, 1)));
  Rows rows;
  for (const auto& s : samples) {
    std::copy(s.begin(), s.end(), ctx->input_data(0));
    RETURN_IF_ERROR(ctx->execute(1));
    rows.emplace_back(ctx->output_data(0), ctx->output_data(0) + size);
  }
  return rows;
}

double top1_agreement(const Rows& a, const Rows& b) {
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i)
    same += std::max_element(a[i].begin(), a[i].end()) - a[i].begin() ==
            std::max_element(b[i].begin(), b[i].end()) - b[i].begin();
  return a.empty() ? 1.0 : static_cast<double>(same) / static_cast<double>(a.size());
}

// Squared error of `got` against `want`, relative to want's energy.
double relative_error(const Rows& want, const Rows& got) {
  double error = 0, energy = 0;
  for (size_t i = 0; i < want.size(); ++i)
    for (size_t k = 0; k < want[i].size(); ++k) {
      error += (got[i][k] - want[i][k]) * (got[i][k] - want[i][k]);
      energy += want[i][k] * want[i][k];
    }
  return energy > 0 ? error / energy : error;
}

// Mixed precision (CalibrationOptions::min_agreement): ranks the activations by the output
// error of quantizing each alone, then falls back the worst first until the agreement holds,
// keeping a fallback only where it brings answers back.
Status choose_precisions(const ModelFolder& folder, const Rows& samples, double min_agreement, CalibrationTable& table,
                         std::vector<std::string>* report) {
  ASSIGN_OR_RETURN(const Rows want, outputs_with(folder, nullptr, samples));
  ASSIGN_OR_RETURN(Rows got, outputs_with(folder, &table, samples));
  double agreement = top1_agreement(want, got);
  if (agreement >= min_agreement) return Status::ok();
  std::vector<std::pair<double, size_t>> cost;  // (error when quantized alone, entry)
  for (size_t i = 0; i < table.entries.size(); ++i) {
    CalibrationTable alone = table;
    for (size_t j = 0; j < alone.entries.size(); ++j) alone.entries[j].int8 = j == i;
    ASSIGN_OR_RETURN(const Rows rows, outputs_with(folder, &alone, samples));
    cost.push_back({relative_error(want, rows), i});
  }
  std::sort(cost.rbegin(), cost.rend());
  for (const auto& [error, i] : cost) {
    if (agreement >= min_agreement) break;
    table.entries[i].int8 = false;
    ASSIGN_OR_RETURN(got, outputs_with(folder, &table, samples));
    const double before = agreement;
    if (top1_agreement(want, got) <= before) {  // no answer came back: stay INT8
      table.entries[i].int8 = true;
      continue;
    }
    agreement = top1_agreement(want, got);
    if (report)
      report->push_back(table.entries[i].value + " falls back to float (relative error " + std::to_string(error) +
                        " when quantized alone): top-1 agreement " + std::to_string(100 * before) + "% -> " +
                        std::to_string(100 * agreement) + "%");
  }
  return Status::ok();
}

}  // namespace

Result<CalibrationTable> calibrate_model(const ModelFolder& folder, const CalibrationOptions& options,
                                         std::vector<std::string>* report) {
  // Entropy calibration compares integer quantization levels; FP8's are not evenly spaced.
  if (options.e4m3 && options.method == "entropy")
    return invalid_argument("FP8 calibration takes max or percentile (entropy is for INT8's evenly spaced levels)");
  ASSIGN_OR_RETURN(const std::vector<std::string> paths, calibration_images(options));
  std::vector<std::string> names;
  ASSIGN_OR_RETURN(auto engine, measuring_engine(folder, names));
  ASSIGN_OR_RETURN(const image::PreprocessConfig pre, model_preprocess(folder, engine->inputs().at(0).shape));
  ASSIGN_OR_RETURN(auto ctx, engine->create_context());
  std::map<std::string, size_t> output_of;
  for (size_t i = 0; i < engine->outputs().size(); ++i) output_of[engine->outputs()[i].name] = i;
  for (const std::string& n : names)
    if (!output_of.count(n)) return internal_error("calibration: the measuring plan lost the output '" + n + "'");
  const auto sample = static_cast<size_t>(element_count(ctx->input_shape(0, 1)));
  std::vector<std::vector<float>> samples;
  for (const std::string& path : paths) {
    ASSIGN_OR_RETURN(auto bytes, read_file(path));
    std::vector<float>& s = samples.emplace_back(sample);
    if (Status st = image::decode_and_preprocess(bytes, pre, kMaxCalibrationPixels, s.data()); !st.is_ok())
      return st.with_context("calibration image " + path);
  }
  std::vector<ActivationHistogram> histograms(names.size());
  for (int pass = 0; pass < 2; ++pass) {  // the largest |x| first, then the histograms over it
    for (const auto& s : samples) {
      std::copy(s.begin(), s.end(), ctx->input_data(0));
      RETURN_IF_ERROR(ctx->execute(1));
      for (size_t t = 0; t < names.size(); ++t) {
        const size_t o = output_of[names[t]];
        const std::span<const float> v(ctx->output_data(o),
                                       static_cast<size_t>(element_count(ctx->output_shape(o, 1))));
        if (pass == 0) histograms[t].observe_max(v);
        if (pass == 1) histograms[t].add(v);
      }
    }
  }
  CalibrationTable table;
  table.method = options.method;
  for (size_t t = 0; t < names.size(); ++t) {
    // FP8 is symmetric: a ReLU's output gains nothing from a grid of its own (E4M3's sign bit
    // is not a level to reclaim as uint8's is).
    const bool is_unsigned = !options.e4m3 && histograms[t].non_negative();
    using Grid = CalibrationTable::Grid;
    const Grid grid = options.e4m3 ? Grid::kE4m3 : is_unsigned ? Grid::kUint8 : Grid::kInt8;
    ASSIGN_OR_RETURN(float threshold, calibration_threshold(histograms[t], options.method, options.percentile,
                                                            is_unsigned ? 256 : 128));
    table.entries.push_back({names[t], threshold, true, grid});
  }
  if (options.min_agreement > 0) {
    // Each decision runs the model once per sample: a subset keeps that to seconds.
    samples.resize(std::min(samples.size(), kMixedPrecisionSamples));
    RETURN_IF_ERROR(choose_precisions(folder, samples, options.min_agreement, table, report));
  }
  return table;
}

}  // namespace inferd
