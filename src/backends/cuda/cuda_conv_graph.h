// Conv through cuDNN's graph (backend) API: one operation graph per node and shape,
//   conv_fprop(X, W) -> T (virtual fp32) [+ B] [+ R] [act] -> Y
// whose heuristics offer far more engines than the legacy API's eight algorithms (Hopper
// kernels, runtime-fused epilogues); small batches are where that pays.
//
// cuda_conv_graph.cc builds the operation graph (tensors, operations); cuda_conv_plan.cc
// turns it into execution plans (heuristics, an engine chosen by global index + knobs,
// which is what the plan blob stores) and runs them through cached variant packs.
//
// Every tensor the graph reads or writes is dense (the kernel stages strided views into
// the workspace first), so engines see packed NHWC/NCHW data and pointers that keep the
// alignment promised here.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_weights.h"

namespace inferd::cuda {

// One cudnnBackendDescriptor_t, destroyed with its owner (move-only).
class BackendDescriptor {
 public:
  BackendDescriptor() = default;
  BackendDescriptor(BackendDescriptor&& o) noexcept : d_(o.d_) { o.d_ = nullptr; }
  BackendDescriptor& operator=(BackendDescriptor&& o) noexcept;
  BackendDescriptor(const BackendDescriptor&) = delete;
  BackendDescriptor& operator=(const BackendDescriptor&) = delete;
  ~BackendDescriptor();

  static Result<BackendDescriptor> create(cudnnBackendDescriptorType_t type);
  cudnnBackendDescriptor_t get() const { return d_; }

 private:
  cudnnBackendDescriptor_t d_ = nullptr;
};

// cudnnBackendSetAttribute / cudnnBackendFinalize with an error naming the attribute or
// descriptor (`what`); use the macros so the name is the enumerator's.
Status set_backend_attribute(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t name,
                             cudnnBackendAttributeType_t type, int64_t count, const void* values, const char* what);
Status finalize_backend(cudnnBackendDescriptor_t d, const char* what);
#define GRAPH_SET(desc, attr, type, count, values) \
  RETURN_IF_ERROR(::inferd::cuda::set_backend_attribute((desc), (attr), (type), (count), (values), #attr))

// Tensor unique ids of the graph (the variant pack binds data pointers to these).
enum GraphUid : int64_t {
  kUidX = 1,
  kUidW = 2,
  kUidBias = 3,
  kUidResidual = 4,
  kUidY = 5,
  kUidScale = 6,
  kUidVirtual = 100
};

// The dense layout of a graph tensor: logical NCHW dims, element strides.
struct GraphTensorLayout {
  std::array<int64_t, 4> dims{}, strides{};
  bool operator==(const GraphTensorLayout&) const = default;
};

// The storage and compute types of a graph given explicitly (INT8 and FP8 layers), instead of the
// float graph's (X, W, bias, R and Y in the spec's dtype, fp32 compute):
//   conv(X, W) -> T (compute type) [* scale] [+ bias] [+ R] [act] -> Y
// `scale`: a float [1, K, 1, 1] multiplier after the convolution (the layer's dequantization:
// input scale x weight scale per output channel; cuda_conv_int8.cc).
struct ConvGraphTypes {
  cudnnDataType_t x = CUDNN_DATA_INT8, w = CUDNN_DATA_INT8, y = CUDNN_DATA_INT8;
  cudnnDataType_t bias = CUDNN_DATA_FLOAT, residual = CUDNN_DATA_HALF, compute = CUDNN_DATA_INT32;
  bool scale = true;
  bool operator==(const ConvGraphTypes&) const = default;
};

// What one operation graph is built for.
struct ConvGraphShape {
  GraphTensorLayout x, y;  // y: where the graph writes (the output, or a packed temp); R is laid out like y
  // Byte alignment promised for the X, Y and R pointers (16 unless a pointer has less).
  int64_t x_alignment = 16, y_alignment = 16, r_alignment = 16;
  bool fuse_activation = true;  // false: the graph stops before the activation (the epilogue applies it)
  std::optional<ConvGraphTypes> types;  // none: the float graph of the spec's dtype
  bool operator==(const ConvGraphShape&) const = default;
};

// Whether the graph's pointwise modes express `act` exactly (Relu, Clip, Sigmoid, identity).
bool graph_activation_supported(const ir::Activation& act);

// The operation graph of one node at one shape; owns its tensors and operations.
class ConvOpGraph {
 public:
  static Result<std::shared_ptr<const ConvOpGraph>> build(cudnnHandle_t handle, const ConvSpec& spec,
                                                          const ConvGraphShape& shape);
  cudnnBackendDescriptor_t get() const { return graph_.get(); }
  bool has_bias() const { return has_bias_; }
  bool has_residual() const { return has_residual_; }
  bool has_scale() const { return has_scale_; }

 private:
  Status add_tensor(int64_t uid, cudnnDataType_t type, const GraphTensorLayout& layout, int64_t alignment,
                    bool is_virtual);
  Status add_conv(const ConvSpec& s, cudnnDataType_t compute, int64_t out_uid);
  Status add_pointwise(cudnnPointwiseMode_t mode, const ir::Activation* act, int64_t in_uid, int64_t other_uid,
                       int64_t out_uid);
  Status finalize(cudnnHandle_t handle);
  cudnnBackendDescriptor_t tensor(int64_t uid) const;

  std::vector<std::pair<int64_t, BackendDescriptor>> tensors_;
  std::vector<BackendDescriptor> ops_, helpers_;  // operations; conv / pointwise descriptors they reference
  BackendDescriptor graph_;
  bool has_bias_ = false, has_residual_ = false, has_scale_ = false;
};

// An execution plan for a ConvOpGraph, built from an engine choice; owns the engine,
// knob choices and engine config (and keeps the graph alive).
class ConvExecutionPlan {
 public:
  // Fails (unimplemented, usually) when the engine does not finalize for this graph.
  static Result<std::unique_ptr<ConvExecutionPlan>> build(cudnnHandle_t handle,
                                                          std::shared_ptr<const ConvOpGraph> graph,
                                                          const GraphEngineChoice& choice);
  cudnnBackendDescriptor_t get() const { return plan_.get(); }
  size_t workspace_bytes() const { return workspace_; }
  const GraphEngineChoice& choice() const { return choice_; }
  const ConvOpGraph& graph() const { return *graph_; }

 private:
  std::shared_ptr<const ConvOpGraph> graph_;
  GraphEngineChoice choice_;
  BackendDescriptor engine_, config_, plan_;
  std::vector<BackendDescriptor> knobs_;
  size_t workspace_ = 0;
};

// cuDNN's heuristic ranking for the graph (mode A, else FALLBACK), as rebuildable choices,
// without those whose numerical notes the precision forbids; at most `max` of them.
Result<std::vector<GraphEngineChoice>> heuristic_engine_choices(const ConvOpGraph& graph, const ConvSpec& spec,
                                                                size_t max);

// The plan of `preferred` when it finalizes within the workspace cap, else of the first
// heuristic choice that does; null when none does (the caller falls back to legacy).
Result<std::unique_ptr<ConvExecutionPlan>> plan_or_heuristic(cudnnHandle_t handle,
                                                             const std::shared_ptr<const ConvOpGraph>& graph,
                                                             const ConvSpec& spec, const GraphEngineChoice* preferred);

// "cudnn-graph:conv eng=12" (knobs omitted: they only tune the same kernel family).
std::string graph_engine_name(const GraphEngineChoice& choice);

// The device pointers one execution binds (null for tensors the graph does not have).
struct GraphPointers {
  const void* x = nullptr;
  const void* w = nullptr;
  const void* bias = nullptr;
  const void* residual = nullptr;
  void* y = nullptr;
  void* workspace = nullptr;
  const void* scale = nullptr;  // quantized graphs (ConvGraphTypes::scale)
  bool operator==(const GraphPointers&) const = default;
};

// Variant packs of one plan, one per pointer set seen. A finalized variant pack cannot be
// re-pointed, and the runtime binds the same pointers for a given batch every time, so a
// small cache makes steady-state enqueues build nothing (host descriptors only, never
// device memory, so a miss is still safe under CUDA graph capture).
class VariantPackCache {
 public:
  Result<cudnnBackendDescriptor_t> find_or_build(const ConvOpGraph& graph, const GraphPointers& p);

 private:
  static constexpr size_t kMaxEntries = 8;
  std::vector<std::pair<GraphPointers, BackendDescriptor>> entries_;  // most recent last
};

// What a kernel keeps per shape for the graph path (building a plan costs milliseconds,
// runtime-compiled engines far more, and the runtime reshapes on every batch switch).
struct ConvGraphState {
  ConvGraphShape shape;
  GraphEngineChoice preferred;              // the tuned choice asked for; engine -1: none
  std::unique_ptr<ConvExecutionPlan> plan;  // null: no graph engine here, run legacy
  VariantPackCache packs;
};
class ConvGraphStates {
 public:
  // The state of (shape, preferred), built on first sight. Any failure of the graph API
  // (an operation graph it refuses, no engine that finalizes) is remembered as "no plan"
  // so that the kernel takes the legacy path without asking again.
  ConvGraphState& find_or_build(cudnnHandle_t handle, const ConvSpec& spec, const ConvGraphShape& shape,
                                const GraphEngineChoice* preferred);

 private:
  std::vector<std::unique_ptr<ConvGraphState>> states_;
};

// cudnnBackendExecute on `handle` (bound to the stream the work goes on).
Status execute_plan(cudnnHandle_t handle, const ConvExecutionPlan& plan, cudnnBackendDescriptor_t pack);

// ---- build-time timing (cuda_conv_tune.cc) ------------------------------------------------
// The median time in ms of `run` over 10 runs after 3 warm-ups, each bracketed by events on
// `stream`; an error when a run fails.
Result<float> median_run_ms(cudaStream_t stream, const std::function<Status()>& run);
// The fastest of the graph's first heuristic candidates (those the spec's precision allows)
// run on the pointers `p` on the handle's stream, its workspace taken from `workspace`
// (candidates needing more are skipped); ms -1 when none finalizes and runs.
struct TimedEngine {
  GraphEngineChoice engine;
  size_t workspace = 0;
  float ms = -1;
};
TimedEngine fastest_graph_engine(cudnnHandle_t handle, const std::shared_ptr<const ConvOpGraph>& graph,
                                 const ConvSpec& spec, GraphPointers p, const DeviceBuffer& workspace);

}  // namespace inferd::cuda
