// tune_conv: for a Conv at each batch the plan asks for, times the legacy API's forward
// algorithms (cudnnFindConvolutionForwardAlgorithmEx), the graph API's top heuristic
// engine configs (cuda_conv_graph.h, each run on the same scratch buffers) and, for a
// depthwise convolution, the own kernel (kernels_nhwc.h), and stores the
// winner per batch in the plan (blob format: cuda_conv.h), so loading a plan never
// re-times anything.
//
// Find times the legacy convolution alone, and a graph engine that cannot express the
// activation (or writes a concat slice) is followed by the epilogue pass too: such
// candidates are compared with that pass's measured time added, against the own kernels,
// which fuse everything. Without it, ReLU6 layers picked cuDNN and its epilogue over a
// faster own kernel (MobileNetV2's features.1 at batch 256 on the H200, 2026-12-04: 0.93 ms
// that way, 0.43 ms with the own kernel).
#include <algorithm>
#include <functional>
#include <optional>
#include <string>

#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_conv_graph.h"
#include "backends/cuda/cuda_epilogue.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_weights.h"
#include "backends/cuda/kernels_nhwc.h"

namespace inferd::cuda {
namespace {

// The fused call runs identity only with IMPLICIT_PRECOMP_GEMM; when it is within this
// factor of the fastest algorithm, taking it saves the separate epilogue pass (a full
// read and write of the output), which costs more than the difference.
constexpr float kPrecompSlack = 1.15f;

// Heuristic candidates of the graph API timed per batch, and the runs per candidate. 8
// candidates made ResNet-50's fp16 build take 53 s on the H200 (finalizing runtime-compiled
// engines dominates), over the 30 s target; the winner was nearly always among the first.
constexpr size_t kGraphCandidates = 4;
constexpr int kWarmupRuns = 3, kTimedRuns = 10;

struct TuneBuffers {
  DeviceBuffer x, w, y, bias, residual, workspace;
};

// Scratch sized for the largest batch; the workspace shrinks until cudaMalloc succeeds.
Result<TuneBuffers> allocate_buffers(const ConvSpec& s, const Shape& x_shape, const Shape& y_shape, int max_batch) {
  const size_t es = element_size(s.dtype);
  TuneBuffers b;
  ASSIGN_OR_RETURN(
      b.x, allocate_pattern(static_cast<size_t>(element_count(library_input_dims(s, x_shape), max_batch)) * es));
  ASSIGN_OR_RETURN(b.y, allocate_pattern(static_cast<size_t>(element_count(y_shape, max_batch)) * es));
  const size_t w_count = static_cast<size_t>(s.out_channels) * s.in_per_group * s.kernel_h * s.kernel_w;
  ASSIGN_OR_RETURN(b.w, allocate_pattern(w_count * es));
  ASSIGN_OR_RETURN(b.bias, allocate_pattern(static_cast<size_t>(s.out_channels) * es));
  if (s.has_residual) {
    ASSIGN_OR_RETURN(b.residual, allocate_pattern(static_cast<size_t>(element_count(y_shape, max_batch)) * es));
  }
  b.workspace = allocate_largest(kConvWorkspaceCap);
  return b;
}

// The fastest result the precision allows, with the IMPLICIT_PRECOMP_GEMM preference above.
const cudnnConvolutionFwdAlgoPerf_t* pick(const ConvSpec& s, const cudnnConvolutionFwdAlgoPerf_t* perf, int count) {
  const cudnnConvolutionFwdAlgoPerf_t* best = nullptr;
  const cudnnConvolutionFwdAlgoPerf_t* precomp = nullptr;
  for (int i = 0; i < count; ++i) {
    const cudnnConvolutionFwdAlgoPerf_t& p = perf[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.time < 0 || !math_allowed(s, p.mathType)) continue;
    if (!best || p.time < best->time) best = &p;
    if (p.algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM && (!precomp || p.time < precomp->time))
      precomp = &p;
  }
  const bool wants_precomp = s.act.is_identity() && !s.output_is_slice;
  if (wants_precomp && best && precomp && precomp->time <= best->time * kPrecompSlack) return precomp;
  return best;
}

// The legacy API's best algorithm at `batch`, with its time in ms.
Result<std::pair<ConvChoice, float>> tune_legacy(cudnnHandle_t handle, const ConvSpec& s, ConvDescriptors& d,
                                                 TuneBuffers& b, const ir::Value& x, const ir::Value& y, int batch) {
  Shape xs = library_input_dims(s, x.shape), ys = y.shape;
  xs[0] = ys[0] = batch;
  // As the kernel will see them: packed in the graph's layout (a concat slice output is
  // computed into a packed temp of that layout; few channels are padded).
  RETURN_IF_ERROR(set_tensor_desc(d.x, s.dtype, xs, packed_strides(xs, x.layout == ir::Layout::kNHWC)));
  RETURN_IF_ERROR(set_tensor_desc(d.y, s.dtype, ys, packed_strides(ys, y.layout == ir::Layout::kNHWC)));
  CUDNN_RETURN_IF_ERROR(cudnnSetConvolutionMathType(d.conv, default_math(s)));
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT] = {};
  int returned = 0;
  CUDNN_RETURN_IF_ERROR(cudnnFindConvolutionForwardAlgorithmEx(handle, d.x, b.x.data(), d.w, b.w.data(), d.conv, d.y,
                                                               b.y.data(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned,
                                                               perf, b.workspace.data(), b.workspace.bytes()));
  const cudnnConvolutionFwdAlgoPerf_t* best = pick(s, perf, returned);
  if (!best)
    return unimplemented("cuDNN has no forward algorithm for this convolution at batch " + std::to_string(batch));
  ConvChoice c;
  c.batch = batch;
  c.algo = best->algo;
  c.math = best->mathType;
  c.workspace = best->memory;
  return std::pair{c, best->time};
}

// A packed NHWC view of scratch `data` at `shape` (batch set).
template <typename Tensor>
Tensor scratch_tensor(void* data, const Shape& shape, DataType dtype) {
  const std::vector<int64_t> strides = packed_strides(shape, true);
  Tensor t;
  t.data = data;
  t.dtype = dtype;
  t.rank = 4;
  for (size_t d = 0; d < 4; ++d) t.dims[d] = shape[d], t.strides[d] = strides[d];
  return t;
}

// The own kernel of `kind` at `batch` on packed NHWC scratch (what a planned graph gives
// it), with its time in ms; the filter scratch is at least as large as its real filter.
Result<std::pair<ConvChoice, float>> tune_own(cudnnHandle_t handle, ConvChoiceKind kind, uint8_t variant,
                                              const ConvSpec& s, TuneBuffers& b, const ir::Value& x, const ir::Value& y,
                                              int batch) {
  cudaStream_t stream = nullptr;
  CUDNN_RETURN_IF_ERROR(cudnnGetStream(handle, &stream));
  Shape xs = x.shape, ys = y.shape;
  xs[0] = ys[0] = batch;
  const auto xt = scratch_tensor<ConstDeviceTensor>(b.x.data(), xs, s.dtype);
  const auto yt = scratch_tensor<DeviceTensor>(b.y.data(), ys, s.dtype);
  const auto rt = scratch_tensor<ConstDeviceTensor>(b.residual.data(), ys, s.dtype);
  ASSIGN_OR_RETURN(float ms, median_run_ms(stream, [&] {
                     return launch_own_conv(kind, variant, s, b.w.data(), b.bias.data(), xt,
                                            s.has_residual ? &rt : nullptr, yt, stream);
                   }));
  ConvChoice c;
  c.batch = batch;
  c.kind = kind;
  c.variant = variant;
  return std::pair{c, ms};
}

// What the epilogue pass costs at `batch` (a read and write of the output, the residual
// read): the library paths that cannot fuse everything run it after the convolution, so
// their times are compared with it added, against the own kernels that fuse all.
Result<float> time_epilogue(cudnnHandle_t handle, const ConvSpec& s, TuneBuffers& b, const ir::Value& y, int batch) {
  cudaStream_t stream = nullptr;
  CUDNN_RETURN_IF_ERROR(cudnnGetStream(handle, &stream));
  Shape ys = y.shape;
  ys[0] = batch;
  const std::vector<int64_t> strides = packed_strides(ys, true);
  EpilogueArgs a;
  a.dtype = s.dtype;
  a.t = a.y = b.y.data();
  a.bias = b.bias.data();
  a.residual = s.has_residual ? b.residual.data() : nullptr;
  a.act = s.act;
  for (size_t i = 0; i < 4; ++i) {
    a.dims[i] = ys[i];
    a.t_strides[i] = a.r_strides[i] = a.y_strides[i] = strides[i];
  }
  return median_run_ms(stream, [&] { return launch_epilogue(a, stream); });
}

// Whether the path of `c` needs the epilogue pass after the library's call (cuda_conv.cc:
// the graph fuses bias, residual and the activations it can express into a packed output;
// the legacy fused call ReLU, or identity with IMPLICIT_PRECOMP_GEMM).
bool needs_epilogue(const ConvSpec& s, const ConvChoice& c) {
  if (c.kind == ConvChoiceKind::kDepthwise || c.kind == ConvChoiceKind::kDirect) return false;
  if (s.output_is_slice) return true;
  if (c.kind == ConvChoiceKind::kGraph) return !graph_activation_supported(s.act);
  const bool fused = fusable_activation(s.act) && (s.act.kind == ir::Activation::Kind::kRelu ||
                                                   c.algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
  return !fused && (s.has_bias || s.has_residual || !s.act.is_identity());
}

// The graph shape the kernel will build at `batch` for tensors packed in the graph's
// layouts (a strided X or output is staged or computed into such a packed buffer).
ConvGraphShape graph_shape(const ConvSpec& s, const ir::Value& x, const ir::Value& y, int batch) {
  Shape xs = library_input_dims(s, x.shape), ys = y.shape;
  xs[0] = ys[0] = batch;
  const std::vector<int64_t> x_strides = packed_strides(xs, x.layout == ir::Layout::kNHWC);
  const std::vector<int64_t> y_strides = packed_strides(ys, y.layout == ir::Layout::kNHWC);
  ConvGraphShape shape;
  std::copy_n(xs.begin(), 4, shape.x.dims.begin());
  std::copy_n(x_strides.begin(), 4, shape.x.strides.begin());
  std::copy_n(ys.begin(), 4, shape.y.dims.begin());
  std::copy_n(y_strides.begin(), 4, shape.y.strides.begin());
  shape.fuse_activation = graph_activation_supported(s.act);
  return shape;
}

// The fastest of the graph API's heuristic candidates at `batch`, with its time in ms;
// engine -1 when none finalizes and runs (groups the graph refuses, for one).
Result<std::pair<ConvChoice, float>> tune_graph(cudnnHandle_t handle, const ConvSpec& s, TuneBuffers& b,
                                                const ir::Value& x, const ir::Value& y, int batch) {
  std::pair<ConvChoice, float> best{ConvChoice{}, -1.0f};
  best.first.engine.engine = -1;
  Result<std::shared_ptr<const ConvOpGraph>> graph = ConvOpGraph::build(handle, s, graph_shape(s, x, y, batch));
  // The graph API failing here only means legacy wins, never that the build fails.
  if (!graph.is_ok()) return best;
  const GraphPointers p{b.x.data(), b.w.data(), b.bias.data(), b.residual.data(), b.y.data(), nullptr};
  const TimedEngine fastest = fastest_graph_engine(handle, graph.value(), s, p, b.workspace);
  if (fastest.ms < 0) return best;
  best.first.kind = ConvChoiceKind::kGraph;
  best.first.batch = batch;
  best.first.engine = fastest.engine;
  best.first.workspace = fastest.workspace;
  best.second = fastest.ms;
  return best;
}

Result<std::vector<uint8_t>> tune_conv_impl(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const TuneOptions& options) {
  ASSIGN_OR_RETURN(const ConvSpec s, conv_spec(graph, node, options.precision));
  const std::vector<int> batches = tuned_batches(options.batches);
  if (batches.empty()) return std::vector<uint8_t>{};
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  const ir::Value& x = graph.value(node.inputs[0]);
  const ir::Value& y = graph.value(node.outputs[0]);
  ConvDescriptors d;
  RETURN_IF_ERROR(init_conv_descriptors(d, s));
  ASSIGN_OR_RETURN(TuneBuffers buffers, allocate_buffers(s, x.shape, y.shape, batches.back()));
  ASSIGN_OR_RETURN(QueryHandle handle, QueryHandle::acquire(env.device));
  std::vector<ConvChoice> choices;
  for (int batch : batches) {
    ASSIGN_OR_RETURN(auto graph, tune_graph(handle.get(), s, buffers, x, y, batch));
    Result<std::pair<ConvChoice, float>> legacy = tune_legacy(handle.get(), s, d, buffers, x, y, batch);
    std::vector<std::pair<ConvChoice, float>> candidates;
    if (graph.second >= 0) candidates.push_back(graph);
    if (legacy.is_ok()) candidates.push_back(legacy.value());
    for (ConvChoiceKind own : {ConvChoiceKind::kDepthwise, ConvChoiceKind::kDirect})
      if (own_kernel_applies(s, own))
        for (uint8_t variant : own_kernel_variants(s, own)) {
          ASSIGN_OR_RETURN(auto timed, tune_own(handle.get(), own, variant, s, buffers, x, y, batch));
          candidates.push_back(timed);
        }
    if (candidates.empty()) return legacy.status();
    std::optional<float> epilogue_ms;
    for (auto& [choice, ms] : candidates)
      if (needs_epilogue(s, choice)) {
        if (!epilogue_ms) {
          ASSIGN_OR_RETURN(epilogue_ms, time_epilogue(handle.get(), s, buffers, y, batch));
        }
        ms += *epilogue_ms;
      }
    choices.push_back(std::min_element(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
                        return a.second < b.second;
                      })->first);
  }
  // Find and the timed plans ran on the handle's (default) stream: finish before freeing.
  CUDA_RETURN_IF_ERROR(cudaDeviceSynchronize());
  return encode_conv_choices(choices);
}

}  // namespace

// The median time in ms of `run` over kTimedRuns runs after kWarmupRuns, each run
// bracketed by events on `stream`; an error when a run fails.
Result<float> median_run_ms(cudaStream_t stream, const std::function<Status()>& run) {
  for (int i = 0; i < kWarmupRuns; ++i) RETURN_IF_ERROR(run());
  std::vector<cudaEvent_t> events(kTimedRuns + 1, nullptr);
  Status status = Status::ok();
  for (cudaEvent_t& e : events)
    if (status.is_ok()) status = cuda_status(cudaEventCreate(&e), "cudaEventCreate");
  for (int i = 0; i < kTimedRuns && status.is_ok(); ++i) {
    status = cuda_status(cudaEventRecord(events[i], stream), "cudaEventRecord");
    if (status.is_ok()) status = run();
  }
  if (status.is_ok()) status = cuda_status(cudaEventRecord(events[kTimedRuns], stream), "cudaEventRecord");
  if (status.is_ok()) status = cuda_status(cudaEventSynchronize(events[kTimedRuns]), "cudaEventSynchronize");
  std::vector<float> times(kTimedRuns, 0.0f);
  for (int i = 0; i < kTimedRuns && status.is_ok(); ++i)
    status = cuda_status(cudaEventElapsedTime(&times[i], events[i], events[i + 1]), "cudaEventElapsedTime");
  for (cudaEvent_t e : events)
    if (e) cudaEventDestroy(e);
  RETURN_IF_ERROR(status);
  std::nth_element(times.begin(), times.begin() + kTimedRuns / 2, times.end());
  return times[kTimedRuns / 2];
}

TimedEngine fastest_graph_engine(cudnnHandle_t handle, const std::shared_ptr<const ConvOpGraph>& graph,
                                 const ConvSpec& spec, GraphPointers p, const DeviceBuffer& workspace) {
  TimedEngine best;
  Result<std::vector<GraphEngineChoice>> candidates = heuristic_engine_choices(*graph, spec, kGraphCandidates);
  if (!candidates.is_ok()) return best;
  cudaStream_t stream = nullptr;
  if (cudnnGetStream(handle, &stream) != CUDNN_STATUS_SUCCESS) return best;
  for (const GraphEngineChoice& candidate : candidates.value()) {
    Result<std::unique_ptr<ConvExecutionPlan>> plan = ConvExecutionPlan::build(handle, graph, candidate);
    if (!plan.is_ok() || plan.value()->workspace_bytes() > workspace.bytes()) continue;
    p.workspace = plan.value()->workspace_bytes() > 0 ? workspace.data() : nullptr;
    VariantPackCache packs;
    Result<cudnnBackendDescriptor_t> pack = packs.find_or_build(*graph, p);
    if (!pack.is_ok()) continue;
    Result<float> ms = median_run_ms(stream, [&] { return execute_plan(handle, *plan.value(), pack.value()); });
    if (!ms.is_ok() || (best.ms >= 0 && ms.value() >= best.ms)) continue;
    best.engine = candidate;
    best.workspace = plan.value()->workspace_bytes();
    best.ms = ms.value();
  }
  return best;
}

Result<std::vector<uint8_t>> tune_conv(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                       const TuneOptions& options) {
  if (node.attrs.has("input_scale")) return tune_conv_int8(env, graph, node, options);  // cuda_conv_int8.cc
  Result<std::vector<uint8_t>> blob = tune_conv_impl(env, graph, node, options);
  if (!blob.is_ok()) return blob.status().with_context(ir::describe(graph, node));
  return blob;
}

}  // namespace inferd::cuda
