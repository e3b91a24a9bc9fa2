// Execution plans for a Conv operation graph (cuda_conv_graph.h): cuDNN's heuristic
// candidates as serializable engine choices (global index + knobs), plans rebuilt from
// such a choice, and the variant packs that bind device pointers for cudnnBackendExecute.
#include <algorithm>
#include <string>

#include "backends/cuda/cuda_conv_graph.h"

namespace inferd::cuda {
namespace {

Status get_attribute(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
                     int64_t requested, int64_t* count, void* values, const char* what) {
  const cudnnStatus_t st = cudnnBackendGetAttribute(d, name, type, requested, count, values);
  return cudnn_status(st, "cudnnBackendGetAttribute").with_context(what);
}
#define GRAPH_GET(desc, attr, type, requested, count, values) \
  RETURN_IF_ERROR(get_attribute((desc), (attr), (type), (requested), (count), (values), #attr))

// `count` fresh descriptors of `type` (a getter of descriptor arrays fills caller-made ones).
Result<std::vector<BackendDescriptor>> create_many(cudnnBackendDescriptorType_t type, int64_t count) {
  std::vector<BackendDescriptor> out;
  for (int64_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(BackendDescriptor d, BackendDescriptor::create(type));
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<cudnnBackendDescriptor_t> raw(const std::vector<BackendDescriptor>& v) {
  std::vector<cudnnBackendDescriptor_t> out;
  for (const BackendDescriptor& d : v) out.push_back(d.get());
  return out;
}

// Whether the precision allows an engine with these numerical notes: strict fp32 takes no
// tensor cores (TF32) and no down-conversion; tf32 (fp32 storage otherwise) takes TF32
// tensor cores but no fp16 down-conversion; no precision takes reduced-precision
// (fp16) accumulation, which the tolerance of fp16 activations does not cover.
bool notes_allowed(const ConvSpec& s, const std::vector<cudnnBackendNumericalNote_t>& notes) {
  for (cudnnBackendNumericalNote_t n : notes) {
    if (n == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION) return false;
    if (s.dtype == DataType::kFloat32 && n == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS) return false;
    if (s.strict_fp32 && n == CUDNN_NUMERICAL_NOTE_TENSOR_CORE) return false;
  }
  return true;
}

// Engines that need int8x32 reordered filters or biases expect data we never produce.
bool behavior_allowed(const std::vector<cudnnBackendBehaviorNote_t>& notes) {
  for (cudnnBackendBehaviorNote_t n : notes)
    if (n == CUDNN_BEHAVIOR_NOTE_REQUIRES_FILTER_INT8x32_REORDER || n == CUDNN_BEHAVIOR_NOTE_REQUIRES_BIAS_INT8x32_REORDER)
      return false;
  return true;
}

Result<std::vector<GraphEngineChoice::Knob>> knobs_of(cudnnBackendDescriptor_t config) {
  ASSIGN_OR_RETURN(std::vector<BackendDescriptor> descs, create_many(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR, CUDNN_KNOB_TYPE_COUNTS));
  std::vector<cudnnBackendDescriptor_t> handles = raw(descs);
  int64_t count = 0;
  GRAPH_GET(config, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR, CUDNN_KNOB_TYPE_COUNTS, &count,
            handles.data());
  std::vector<GraphEngineChoice::Knob> knobs;
  for (int64_t i = 0; i < count && i < CUDNN_KNOB_TYPE_COUNTS; ++i) {
    cudnnBackendKnobType_t type{};
    GraphEngineChoice::Knob k;
    int64_t n = 0;
    GRAPH_GET(handles[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &n, &type);
    GRAPH_GET(handles[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &n, &k.value);
    k.type = static_cast<uint32_t>(type);
    knobs.push_back(k);
  }
  return knobs;
}

// The rebuildable choice of a heuristic engine config; nullopt-like (engine -1) when the
// precision or the engine's behaviour rules it out.
Result<GraphEngineChoice> choice_of(cudnnBackendDescriptor_t config, const ConvSpec& s) {
  ASSIGN_OR_RETURN(BackendDescriptor engine, BackendDescriptor::create(CUDNN_BACKEND_ENGINE_DESCRIPTOR));
  cudnnBackendDescriptor_t e = engine.get();
  int64_t n = 0;
  GRAPH_GET(config, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &e);
  GraphEngineChoice choice;
  GRAPH_GET(e, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n, &choice.engine);
  std::vector<cudnnBackendNumericalNote_t> notes(CUDNN_NUMERICAL_NOTE_TYPE_COUNT);
  GRAPH_GET(e, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE, CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &n,
            notes.data());
  notes.resize(static_cast<size_t>(std::min<int64_t>(n, CUDNN_NUMERICAL_NOTE_TYPE_COUNT)));
  std::vector<cudnnBackendBehaviorNote_t> behavior(CUDNN_BEHAVIOR_NOTE_TYPE_COUNT);
  GRAPH_GET(e, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE, CUDNN_BEHAVIOR_NOTE_TYPE_COUNT, &n,
            behavior.data());
  behavior.resize(static_cast<size_t>(std::min<int64_t>(n, CUDNN_BEHAVIOR_NOTE_TYPE_COUNT)));
  if (!notes_allowed(s, notes) || !behavior_allowed(behavior)) return GraphEngineChoice{};
  ASSIGN_OR_RETURN(choice.knobs, knobs_of(config));
  return choice;
}

// The engine configs heuristic `mode` ranks for the graph (empty when the mode declines it).
Result<std::vector<BackendDescriptor>> heuristic_configs(const ConvOpGraph& graph, cudnnBackendHeurMode_t mode) {
  ASSIGN_OR_RETURN(BackendDescriptor heur, BackendDescriptor::create(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR));
  const cudnnBackendDescriptor_t g = graph.get();
  GRAPH_SET(heur.get(), CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &g);
  GRAPH_SET(heur.get(), CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode);
  if (cudnnBackendFinalize(heur.get()) != CUDNN_STATUS_SUCCESS) return std::vector<BackendDescriptor>{};
  int64_t count = 0;
  GRAPH_GET(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr);
  ASSIGN_OR_RETURN(std::vector<BackendDescriptor> configs, create_many(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, count));
  std::vector<cudnnBackendDescriptor_t> handles = raw(configs);
  int64_t returned = 0;
  GRAPH_GET(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &returned, handles.data());
  if (returned < count) configs.resize(static_cast<size_t>(std::max<int64_t>(returned, 0)));
  return configs;
}

Status set_knobs(std::vector<BackendDescriptor>& out, const GraphEngineChoice& choice) {
  for (const GraphEngineChoice::Knob& k : choice.knobs) {
    ASSIGN_OR_RETURN(BackendDescriptor knob, BackendDescriptor::create(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR));
    const auto type = static_cast<cudnnBackendKnobType_t>(k.type);
    GRAPH_SET(knob.get(), CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &type);
    GRAPH_SET(knob.get(), CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &k.value);
    RETURN_IF_ERROR(finalize_backend(knob.get(), "knob choice"));
    out.push_back(std::move(knob));
  }
  return Status::ok();
}

}  // namespace

// Rebuild = engine by global index on this graph -> knobs -> engine config -> plan.
Result<std::unique_ptr<ConvExecutionPlan>> ConvExecutionPlan::build(cudnnHandle_t handle,
                                                                     std::shared_ptr<const ConvOpGraph> graph,
                                                                     const GraphEngineChoice& choice) {
  auto p = std::make_unique<ConvExecutionPlan>();
  p->graph_ = std::move(graph);
  p->choice_ = choice;
  const cudnnBackendDescriptor_t g = p->graph_->get();
  ASSIGN_OR_RETURN(p->engine_, BackendDescriptor::create(CUDNN_BACKEND_ENGINE_DESCRIPTOR));
  GRAPH_SET(p->engine_.get(), CUDNN_ATTR_ENGINE_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &g);
  GRAPH_SET(p->engine_.get(), CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &choice.engine);
  RETURN_IF_ERROR(finalize_backend(p->engine_.get(), "engine"));
  RETURN_IF_ERROR(set_knobs(p->knobs_, choice));
  ASSIGN_OR_RETURN(p->config_, BackendDescriptor::create(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR));
  const cudnnBackendDescriptor_t e = p->engine_.get();
  GRAPH_SET(p->config_.get(), CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &e);
  if (!p->knobs_.empty()) {
    std::vector<cudnnBackendDescriptor_t> knobs = raw(p->knobs_);
    GRAPH_SET(p->config_.get(), CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR,
              static_cast<int64_t>(knobs.size()), knobs.data());
  }
  RETURN_IF_ERROR(finalize_backend(p->config_.get(), "engine config"));
  ASSIGN_OR_RETURN(p->plan_, BackendDescriptor::create(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR));
  const cudnnBackendDescriptor_t c = p->config_.get();
  // Deprecated in cuDNN 9 like the graph's handle (see ConvOpGraph::finalize).
  (void)cudnnBackendSetAttribute(p->plan_.get(), CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle);
  GRAPH_SET(p->plan_.get(), CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &c);
  RETURN_IF_ERROR(finalize_backend(p->plan_.get(), "execution plan"));
  int64_t workspace = 0, n = 0;
  GRAPH_GET(p->plan_.get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n, &workspace);
  if (workspace < 0) return internal_error("cuDNN reported a negative workspace size");
  p->workspace_ = static_cast<size_t>(workspace);
  return p;
}

Result<std::vector<GraphEngineChoice>> heuristic_engine_choices(const ConvOpGraph& graph, const ConvSpec& spec,
                                                                size_t max) {
  std::vector<GraphEngineChoice> out;
  for (cudnnBackendHeurMode_t mode : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK}) {
    ASSIGN_OR_RETURN(std::vector<BackendDescriptor> configs, heuristic_configs(graph, mode));
    for (const BackendDescriptor& config : configs) {
      if (out.size() >= max) break;
      // A config whose description cannot be read is skipped like one that does not finalize.
      Result<GraphEngineChoice> c = choice_of(config.get(), spec);
      if (c.is_ok() && c.value().engine >= 0 && std::find(out.begin(), out.end(), c.value()) == out.end())
        out.push_back(std::move(c).value());
    }
    if (!out.empty()) break;
  }
  return out;
}

Result<std::unique_ptr<ConvExecutionPlan>> plan_or_heuristic(cudnnHandle_t handle,
                                                             const std::shared_ptr<const ConvOpGraph>& graph,
                                                             const ConvSpec& spec, const GraphEngineChoice* preferred) {
  if (preferred) {
    Result<std::unique_ptr<ConvExecutionPlan>> plan = ConvExecutionPlan::build(handle, graph, *preferred);
    if (plan.is_ok() && plan.value()->workspace_bytes() <= kConvWorkspaceCap) return plan;
  }
  // Beyond the first few, heuristics' candidates are rarely better than the legacy API.
  constexpr size_t kCandidates = 8;
  ASSIGN_OR_RETURN(std::vector<GraphEngineChoice> choices, heuristic_engine_choices(*graph, spec, kCandidates));
  for (const GraphEngineChoice& c : choices) {
    Result<std::unique_ptr<ConvExecutionPlan>> plan = ConvExecutionPlan::build(handle, graph, c);
    if (plan.is_ok() && plan.value()->workspace_bytes() <= kConvWorkspaceCap) return plan;
  }
  return std::unique_ptr<ConvExecutionPlan>();
}

std::string graph_engine_name(const GraphEngineChoice& choice) {
  return "cudnn-graph:conv eng=" + std::to_string(choice.engine);
}

Result<cudnnBackendDescriptor_t> VariantPackCache::find_or_build(const ConvOpGraph& graph, const GraphPointers& p) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->first == p) return it->second.get();
  std::vector<int64_t> uids{kUidX, kUidW, kUidY};
  std::vector<void*> pointers{const_cast<void*>(p.x), const_cast<void*>(p.w), p.y};
  if (graph.has_bias()) uids.push_back(kUidBias), pointers.push_back(const_cast<void*>(p.bias));
  if (graph.has_residual()) uids.push_back(kUidResidual), pointers.push_back(const_cast<void*>(p.residual));
  if (graph.has_scale()) uids.push_back(kUidScale), pointers.push_back(const_cast<void*>(p.scale));
  ASSIGN_OR_RETURN(BackendDescriptor pack, BackendDescriptor::create(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR));
  const auto n = static_cast<int64_t>(uids.size());
  GRAPH_SET(pack.get(), CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n, uids.data());
  GRAPH_SET(pack.get(), CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, n, pointers.data());
  GRAPH_SET(pack.get(), CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &p.workspace);
  RETURN_IF_ERROR(finalize_backend(pack.get(), "variant pack"));
  if (entries_.size() >= kMaxEntries) entries_.erase(entries_.begin());
  entries_.emplace_back(p, std::move(pack));
  return entries_.back().second.get();
}

ConvGraphState& ConvGraphStates::find_or_build(cudnnHandle_t handle, const ConvSpec& spec, const ConvGraphShape& shape,
                                               const GraphEngineChoice* preferred) {
  const GraphEngineChoice wanted = preferred ? *preferred : GraphEngineChoice{};
  for (const auto& st : states_)
    if (st->shape == shape && st->preferred == wanted) return *st;
  auto st = std::make_unique<ConvGraphState>();
  st->shape = shape;
  st->preferred = wanted;
  Result<std::shared_ptr<const ConvOpGraph>> graph = ConvOpGraph::build(handle, spec, shape);
  if (graph.is_ok()) {
    Result<std::unique_ptr<ConvExecutionPlan>> plan = plan_or_heuristic(handle, graph.value(), spec, preferred);
    if (plan.is_ok()) st->plan = std::move(plan).value();
  }
  states_.push_back(std::move(st));
  return *states_.back();
}

Status execute_plan(cudnnHandle_t handle, const ConvExecutionPlan& plan, cudnnBackendDescriptor_t pack) {
  CUDNN_RETURN_IF_ERROR(cudnnBackendExecute(handle, plan.get(), pack));
  return Status::ok();
}

}  // namespace inferd::cuda
