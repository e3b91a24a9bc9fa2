#include "builder/builder.h"

#include <chrono>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <filesystem>
#include <type_traits>
#include <unordered_map>
#include <variant>

#include "backends/api/node_timing.h"
#include "backends/reference/reference.h"
#include "core/file.h"
#include "core/log.h"
#include "core/version.h"
#include "import/caffe/caffe_importer.h"
#include "import/caffe/caffe_mean.h"
#include "import/onnx/onnx_importer.h"
#include "passes/precision_assignment.h"
#include "plan/byte_io.h"

namespace inferd {
namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Folds a float node with its reference kernel (constant folding's evaluator).
Status evaluate_with_reference(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                               std::vector<Tensor>& outputs) {
  auto fn = ref::reference_kernel(node.op);
  if (!fn) return unimplemented("no reference kernel for " + std::string(ir::to_string(node.op)));
  std::vector<ConstTensorView> in;
  std::vector<TensorView> out;
  for (const Tensor* t : inputs) {
    ConstTensorView v;
    if (t) v = ConstTensorView(t->raw(), t->shape(), dense_strides(t->shape()), t->dtype());
    in.push_back(std::move(v));
  }
  for (auto& t : outputs) out.emplace_back(t.raw(), t.shape(), dense_strides(t.shape()), t.dtype());
  fn(node.attrs, in, out);
  return Status::ok();
}

}  // namespace

passes::PassContext pass_context_for(const Backend& backend) {
  passes::PassContext ctx;
  ctx.supports = [&backend](const ir::Graph& g, const ir::Node& n) { return backend.supports(g, n); };
  ctx.preferred_layout = [&backend](const ir::Graph& g, const ir::Node& n) { return backend.preferred_layout(g, n); };
  ctx.supports_strided_output = [&backend](const ir::Graph& g, const ir::Node& n) {
    return backend.supports_strided_output(g, n);
  };
  ctx.prefers_padded_window_merge = [&backend](const ir::Graph& g, const ir::Node& n) {
    return backend.prefers_padded_window_merge(g, n);
  };
  ctx.evaluate = evaluate_with_reference;
  return ctx;
}

namespace {

// The batch sizes whose choices tune() stores: 1, a middle one and the max batch.
std::vector<int> tuned_batches(uint32_t max_batch) {
  std::vector<int> batches{1};
  for (int b : {8, static_cast<int>(max_batch)})
    if (b > batches.back() && b <= static_cast<int>(max_batch)) batches.push_back(b);
  return batches;
}

void append_attribute(std::string& key, const ir::Attribute& a) {
  key += std::to_string(a.index()) + ':';
  std::visit(
      [&key](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          key += v;
        } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, float>) {
          key += std::to_string(v);
        } else {
          for (const auto& e : v) key += std::to_string(e) + ',';
        }
      },
      a);
}

void append_value(std::string& key, const ir::Graph& g, ir::ValueId id) {
  if (id == ir::kNoValue) {
    key += "none;";
    return;
  }
  const ir::Value& v = g.value(id);
  key += to_string(v.dtype) + to_string(v.shape) + std::to_string(static_cast<int>(v.layout)) +
         (v.is_constant() ? "c" : "a");
  // A value written into a concat slice is strided by its parent's channels, and its offset
  // sets the alignment the library sees.
  if (v.alias_of != ir::kNoValue)
    key += "@" + to_string(g.value(v.alias_of).shape) + "+" + std::to_string(v.alias_channel_offset);
  key += ';';
}

// What tune() may depend on (backend.h): the op, its attributes, and the dtype, shape,
// layout, constness and placement of each input and output; never names or weight values.
std::string tune_key(const ir::Graph& g, const ir::Node& node) {
  std::string key = std::to_string(static_cast<int>(node.op)) + '|';
  for (const auto& [name, value] : node.attrs.all()) {
    key += name + '=';
    append_attribute(key, value);
    key += ';';
  }
  key += '|';
  for (ir::ValueId id : node.inputs) append_value(key, g, id);
  key += '|';
  for (ir::ValueId id : node.outputs) append_value(key, g, id);
  return key;
}

// Asks the backend, node by node, for the choices worth storing in the plan. Nodes alike
// in everything tune() looks at share one answer: ResNet-50's repeated bottleneck blocks
// are timed once (each timing finalizes and runs several cuDNN engines per batch size).
Status tune_nodes(Plan& plan, const Backend& backend) {
  TuneOptions options;
  options.precision = plan.header.precision;
  options.batches = tuned_batches(plan.header.max_batch);
  const auto& g = plan.graph;
  plan.node_choices.clear();
  std::unordered_map<std::string, size_t> tuned;  // key -> the first node with it
  for (const auto& node : g.nodes()) {
    const std::string key = tune_key(g, node);
    if (auto it = tuned.find(key); it != tuned.end()) {
      plan.node_choices.push_back(plan.node_choices[it->second]);
      continue;
    }
    auto blob = backend.tune(g, node, options);
    if (!blob.is_ok()) return blob.status().with_context(ir::describe(g, node));
    tuned.emplace(key, plan.node_choices.size());
    plan.node_choices.push_back(std::move(blob).value());
  }
  return Status::ok();
}

// The clock passes choose between versions of a layer by (PassContext::time_node): each
// kind of node (tune_key without the per-channel weight scales, which change no work)
// timed once per build, at the backend's layer_clock_batch(): min(8, max batch) on the CPU,
// where a served model's batches mostly are; the max batch on a GPU, where a small batch
// times the launch and not the layer.
std::function<Result<double>(const ir::Graph&, const ir::Node&)> layer_clock(const Backend& backend,
                                                                               const BuildOptions& options) {
  auto cache = std::make_shared<std::unordered_map<std::string, double>>();
  const int batch = backend.layer_clock_batch(options.max_batch);
  return [&backend, cache, batch, precision = options.precision](const ir::Graph& g,
                                                                  const ir::Node& node) -> Result<double> {
    ir::Node keyed = node;
    keyed.attrs.erase("weight_scales");
    const std::string key = tune_key(g, keyed);
    if (const auto it = cache->find(key); it != cache->end()) return it->second;
    NodeTimingOptions timing;
    timing.batch = batch;
    timing.precision = precision;
    auto ms = time_node(backend, g, node, timing);
    if (!ms.is_ok()) return ms.status().with_context("timing " + ir::describe(g, node));
    cache->emplace(key, ms.value());
    return ms;
  };
}

// Stores activations in the precision's dtype (fp16, bf16) where the backend computes in it.
Status assign_precision(ir::Graph& graph, const Backend& backend, const std::string& precision,
                        std::vector<passes::PassReport>& reports) {
  ASSIGN_OR_RETURN(DataType dtype, backend.activation_dtype(precision));
  if (dtype == DataType::kFloat32) return Status::ok();
  const auto start = std::chrono::steady_clock::now();
  passes::PassReport report{"precision_assignment", graph.nodes().size(), 0, {}, 0};
  ASSIGN_OR_RETURN(auto changed, passes::assign_activation_dtype(graph, dtype));
  report.nodes_after = graph.nodes().size();
  report.changes = std::move(changed.changes);
  report.ms = ms_since(start);
  reports.push_back(std::move(report));
  return Status::ok();
}

}  // namespace

Result<BuildResult> optimize_graph(ir::Graph graph, const Backend& backend, const BuildOptions& options) {
  if (options.max_batch < 1 || options.max_batch > 4096)
    return invalid_argument("max batch " + std::to_string(options.max_batch) + " is outside 1..4096");
  RETURN_IF_ERROR(backend.activation_dtype(options.precision).status());
  BuildResult result;
  result.imported_nodes = graph.nodes().size();
  const auto start = std::chrono::steady_clock::now();
  passes::PassContext ctx = pass_context_for(backend);
  if (options.time_int8_layers) ctx.time_node = layer_clock(backend, options);
  ASSIGN_OR_RETURN(result.passes, passes::optimize(graph, ctx, options.disabled_passes));
  RETURN_IF_ERROR(assign_precision(graph, backend, options.precision, result.passes));
  result.optimize_ms = ms_since(start);

  uint32_t max_batch = static_cast<uint32_t>(options.max_batch);
  for (auto id : graph.inputs) {
    const auto& shape = graph.value(id).shape;
    if (!shape.empty() && shape[0] != kDynamicDim) max_batch = static_cast<uint32_t>(shape[0]);
  }
  result.plan.header.engine_version = kEngineVersion;
  result.plan.header.backend = std::string(backend.name());
  result.plan.header.precision = options.precision;
  result.plan.header.target = backend.device().target();
  result.plan.header.max_batch = max_batch;
  result.plan.graph = std::move(graph);
  const auto tune_start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(tune_nodes(result.plan, backend));
  result.tune_ms = ms_since(tune_start);
  return result;
}

Result<Tensor> import_mean_image(const std::string& path) {
  return import_caffe_mean(path);
}

Result<ir::Graph> import_model(const std::string& model_path, const BuildOptions& options) {
  if (!model_path.ends_with(".prototxt")) return import_onnx(model_path);
  if (options.weights_path.empty())
    return invalid_argument(model_path + ": a Caffe prototxt needs its weights: --weights model.caffemodel (in a " +
                            "model folder, model.caffemodel beside deploy.prototxt)");
  return import_caffe(model_path, options.weights_path);
}

Result<BuildResult> build_plan(const std::string& model_path, const Backend& backend, const BuildOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto graph, import_model(model_path, options));
  const double import_ms = ms_since(start);
  if (options.max_nodes > 0 && graph.nodes().size() > options.max_nodes)
    return resource_exhausted(model_path + ": the model has " + std::to_string(graph.nodes().size()) +
                              " nodes; the limit is " + std::to_string(options.max_nodes) + " (--max-nodes)");
  std::vector<std::string> calibrated;
  if (options.calibration)
    RETURN_IF_ERROR(apply_calibration(graph, *options.calibration, &calibrated, options.float_layers)
                        .with_context(model_path));
  ASSIGN_OR_RETURN(auto result, optimize_graph(std::move(graph), backend, options));
  result.calibration = std::move(calibrated);
  result.import_ms = import_ms;
  log_info("plan_built")
      .kv("model", model_path)
      .kv("nodes_imported", result.imported_nodes)
      .kv("nodes_optimized", result.plan.graph.nodes().size())
      .kv("import_ms", import_ms)
      .kv("optimize_ms", result.optimize_ms);
  return result;
}

Result<Plan> load_or_build(const std::string& path, const Backend& backend, const BuildOptions& options) {
  ASSIGN_OR_RETURN(auto bytes, read_file(path));
  if (looks_like_plan(bytes)) {
    ASSIGN_OR_RETURN(auto plan, deserialize_plan(bytes, path));
    if (plan.header.backend != backend.name())
      return failed_precondition(path + ": plan built for the " + plan.header.backend + " backend; this engine uses " +
                                 std::string(backend.name()) + ": rebuild it with `inferd build --backend " +
                                 std::string(backend.name()) + "`");
    if (Status s = backend.device().check_plan_target(plan.header.target); !s.is_ok()) return s.with_context(path);
    return plan;
  }
  ASSIGN_OR_RETURN(auto result, build_plan(path, backend, options));
  return std::move(result.plan);
}

std::string plan_cache_path(const std::string& model_path, std::span<const uint8_t> model_bytes, const Backend& backend,
                            const BuildOptions& options, std::span<const uint8_t> weights_bytes) {
  // The device's target is part of the key: a plan tuned for one GPU (or library version)
  // is never picked up on another.
  std::string key_text = std::string(backend.name()) + "|" + backend.device().target() + "|" + options.precision + "|" +
                         std::to_string(options.max_batch) + "|" + kEngineVersion;
  for (const auto& pass : options.disabled_passes) key_text += "|-" + pass;
  if (options.calibration) key_text += "|" + options.calibration->to_text();
  for (const auto& layer : options.float_layers) key_text += "|float:" + layer;
  if (options.calibration && !options.time_int8_layers) key_text += "|int8:all";
  uint64_t h = plan_io::plan_checksum(model_bytes);
  if (!weights_bytes.empty()) h = (h ^ plan_io::plan_checksum(weights_bytes)) * 0x100000001b3ULL;
  for (char c : key_text) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.plan", static_cast<unsigned long long>(h));
  return (std::filesystem::path(model_path).parent_path() / ".inferd-cache" / name).string();
}

namespace {

// The cache folder must be a real directory, not a symlink planted in a model folder to
// make inferd write elsewhere; anything else only costs the cache (a warning, not a failure).
Status prepare_cache_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directory(dir, ec);
  const auto status = std::filesystem::symlink_status(dir, ec);
  if (ec || status.type() != std::filesystem::file_type::directory)
    return failed_precondition(dir.string() + " is not a directory (a symlink or file is there): plan not cached");
  return Status::ok();
}

}  // namespace

Result<Plan> load_or_build_cached(const std::string& path, const Backend& backend, const BuildOptions& options) {
  ASSIGN_OR_RETURN(auto bytes, read_file(path));
  if (looks_like_plan(bytes)) return load_or_build(path, backend, options);
  std::string cached;
  {  // the weights only for the key: the import reads them again, not held twice meanwhile
    std::vector<uint8_t> weights;
    if (!options.weights_path.empty() && path.ends_with(".prototxt")) {
      ASSIGN_OR_RETURN(weights, read_file(options.weights_path));
    }
    cached = plan_cache_path(path, bytes, backend, options, weights);
  }
  // The error_code overload: a `.inferd-cache` that is a symlink loop, or a folder the
  // server may not search, fails the stat with ELOOP or EACCES, and the throwing overload
  // would let an exception out of the load (on the management thread: the whole server)
  // for what only costs the cache. Such a cache counts as absent; the write below warns.
  std::error_code cache_error;
  if (std::filesystem::exists(cached, cache_error)) {
    auto plan = load_plan(cached);
    if (plan.is_ok() && plan->header.backend == backend.name() &&
        backend.device().check_plan_target(plan->header.target).is_ok()) {
      log_info("plan_cache_hit").kv("model", path).kv("plan", cached);
      return plan;
    }
    log_warn("plan_cache_unusable").kv("plan", cached).kv("error", plan.status().message());
  }
  ASSIGN_OR_RETURN(auto result, build_plan(path, backend, options));
  if (Status s = prepare_cache_dir(std::filesystem::path(cached).parent_path()); !s.is_ok()) {
    log_warn("plan_cache_not_written").kv("plan", cached).kv("error", s.message());
  } else if (Status w = save_plan(result.plan, cached); !w.is_ok()) {
    log_warn("plan_cache_not_written").kv("plan", cached).kv("error", w.message());
  }
  return std::move(result.plan);
}

std::string int8_float_precision(const Backend& backend) {
  return backend.name() == "cuda" ? "fp16" : "fp32";
}

}  // namespace inferd
