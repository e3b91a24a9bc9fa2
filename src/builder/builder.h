// The build phase (as TensorRT's IBuilder): model file -> import -> optimize for a
// backend -> Plan. Sits above import/, passes/ and plan/, below server/ and cli/, which
// both build plans (docs/architecture.md).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "backends/api/backend.h"
#include "builder/calibration.h"
#include "core/status.h"
#include "passes/pass_manager.h"
#include "plan/plan.h"

namespace inferd {

struct BuildOptions {
  BuildOptions(int max_batch_ = 32, std::string precision_ = "fp32")
      : max_batch(max_batch_), precision(std::move(precision_)) {}
  int max_batch = 32;  // for models with a dynamic batch; fixed-batch models keep theirs
  std::string precision = "fp32";
  std::vector<std::string> disabled_passes;  // pass names left out (what a pass buys)
  // Models with more nodes are refused after import: a model file is untrusted input,
  // and building costs time and memory per node (about 2.3 s for 100,000 nodes here).
  size_t max_nodes = kDefaultMaxNodes;
  static constexpr size_t kDefaultMaxNodes = 200000;
  // The .caffemodel of a Caffe model (a deploy.prototxt): `inferd build --weights`, or the
  // model.caffemodel a model folder holds beside it. Unused for ONNX.
  std::string weights_path;
  // INT8 calibration to apply to the imported graph (builder/calibration.h), or null.
  std::shared_ptr<const CalibrationTable> calibration;
  // Layers (node names) that stay float under the calibration: config.toml's
  // quantization.float_layers.
  std::set<std::string> float_layers;
  // Whether each layer that could run INT8 is timed against its float version on this
  // machine, at build time, and stays float where that is faster (config.toml's
  // quantization.int8_layers = "timed", the default); false: every such layer runs INT8
  // ("all"), whatever the clock says, for plans that must not depend on the machine.
  bool time_int8_layers = true;
};

struct BuildResult {
  Plan plan;
  size_t imported_nodes = 0;
  std::vector<passes::PassReport> passes;
  std::vector<std::string> calibration;  // one line per activation quantized (options.calibration)
  double import_ms = 0, optimize_ms = 0, tune_ms = 0;
};

// Caffe's mean image (a mean.binaryproto) as [3, H, W], channels in the model's order.
Result<Tensor> import_mean_image(const std::string& path);

// A model file as IR: ONNX, or a Caffe deploy.prototxt (*.prototxt) with
// options.weights_path; a prototxt without weights is an error saying so.
Result<ir::Graph> import_model(const std::string& model_path, const BuildOptions& options);

Result<BuildResult> build_plan(const std::string& model_path, const Backend& backend, const BuildOptions& options);

// The same, from a graph already in memory (tests, other importers).
Result<BuildResult> optimize_graph(ir::Graph graph, const Backend& backend, const BuildOptions& options);

// Loads a .plan, or builds one from a model file (ONNX or Caffe), whichever `path` is.
Result<Plan> load_or_build(const std::string& path, const Backend& backend, const BuildOptions& options);

// As load_or_build, but a plan built from a model file is cached next to it, in
// `<model dir>/.inferd-cache/<key>.plan`, the key a hash of the model bytes (and of the
// Caffe weights), backend, options and engine version: the next load skips import and
// optimization. An
// unreadable or stale cache entry is rebuilt; an unwritable folder only logs a warning.
Result<Plan> load_or_build_cached(const std::string& path, const Backend& backend, const BuildOptions& options);
std::string plan_cache_path(const std::string& model_path, std::span<const uint8_t> model_bytes, const Backend& backend,
                            const BuildOptions& options, std::span<const uint8_t> weights_bytes = {});

// The PassContext that makes the optimizer ask `backend` (and fold float
// constants with the reference kernels).
passes::PassContext pass_context_for(const Backend& backend);

// The precision of an INT8 plan's float layers (precision "int8": the layers calibration or
// the clock left float, the stem, the pools) on `backend`: fp16 on a GPU, where its INT8
// convolutions' neighbours run fastest so (TensorRT's INT8 plans with FP16 allowed), fp32
// on the CPU, which has no fp16 kernels.
std::string int8_float_precision(const Backend& backend);

}  // namespace inferd
