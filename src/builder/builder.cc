#include "builder/builder.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "backends/cpu/reference.h"
#include "core/file.h"
#include "core/log.h"
#include "core/version.h"
#include "import/onnx/onnx_importer.h"
#include "plan/byte_io.h"

namespace inferd {
namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Folds a float node with its reference kernel (constant folding's evaluator).
Status evaluate_with_reference(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                               std::vector<Tensor>& outputs) {
  auto fn = cpu::reference_kernel(node.op);
  if (!fn) return unimplemented("no reference kernel for " + std::string(ir::to_string(node.op)));
  std::vector<TensorView> in, out;
  for (const Tensor* t : inputs) {
    TensorView v;
    if (t) {
      v.data = const_cast<float*>(reinterpret_cast<const float*>(t->raw()));
      v.shape = t->shape();
      v.strides = dense_strides(t->shape());
    }
    in.push_back(std::move(v));
  }
  for (auto& t : outputs) out.push_back({t.data<float>(), t.shape(), dense_strides(t.shape())});
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
  ctx.evaluate = evaluate_with_reference;
  return ctx;
}

Result<BuildResult> optimize_graph(ir::Graph graph, const Backend& backend, const BuildOptions& options) {
  if (options.precision != "fp32")
    return unimplemented("precision " + options.precision + " needs the CUDA backend, which is not built yet; use fp32");
  if (options.max_batch < 1 || options.max_batch > 4096)
    return invalid_argument("max batch " + std::to_string(options.max_batch) + " is outside 1..4096");
  BuildResult result;
  result.imported_nodes = graph.nodes().size();
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(result.passes, passes::optimize(graph, pass_context_for(backend)));
  result.optimize_ms = ms_since(start);

  uint32_t max_batch = static_cast<uint32_t>(options.max_batch);
  for (auto id : graph.inputs) {
    const auto& shape = graph.value(id).shape;
    if (!shape.empty() && shape[0] != kDynamicDim) max_batch = static_cast<uint32_t>(shape[0]);
  }
  result.plan.header.engine_version = kEngineVersion;
  result.plan.header.backend = std::string(backend.name());
  result.plan.header.precision = options.precision;
  result.plan.header.target = "x86_64";
  result.plan.header.max_batch = max_batch;
  result.plan.graph = std::move(graph);
  return result;
}

Result<BuildResult> build_plan(const std::string& model_path, const Backend& backend, const BuildOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto graph, import_onnx(model_path));
  const double import_ms = ms_since(start);
  ASSIGN_OR_RETURN(auto result, optimize_graph(std::move(graph), backend, options));
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
    return plan;
  }
  ASSIGN_OR_RETURN(auto result, build_plan(path, backend, options));
  return std::move(result.plan);
}

std::string plan_cache_path(const std::string& model_path, std::span<const uint8_t> model_bytes,
                            const Backend& backend, const BuildOptions& options) {
  const std::string key_text = std::string(backend.name()) + "|" + options.precision + "|" +
                               std::to_string(options.max_batch) + "|" + kEngineVersion;
  uint64_t h = plan_io::plan_checksum(model_bytes);
  for (char c : key_text) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.plan", static_cast<unsigned long long>(h));
  return (std::filesystem::path(model_path).parent_path() / ".inferd-cache" / name).string();
}

Result<Plan> load_or_build_cached(const std::string& path, const Backend& backend, const BuildOptions& options) {
  ASSIGN_OR_RETURN(auto bytes, read_file(path));
  if (looks_like_plan(bytes)) return load_or_build(path, backend, options);
  const std::string cached = plan_cache_path(path, bytes, backend, options);
  if (std::filesystem::exists(cached)) {
    auto plan = load_plan(cached);
    if (plan.is_ok() && plan->header.backend == backend.name()) {
      log_info("plan_cache_hit").kv("model", path).kv("plan", cached);
      return plan;
    }
    log_warn("plan_cache_unusable").kv("plan", cached).kv("error", plan.status().message());
  }
  ASSIGN_OR_RETURN(auto result, build_plan(path, backend, options));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cached).parent_path(), ec);
  if (Status s = save_plan(result.plan, cached); !s.is_ok())
    log_warn("plan_cache_not_written").kv("plan", cached).kv("error", s.message());
  return std::move(result.plan);
}

}  // namespace inferd
