// Conv through cuDNN: Y = act(conv(X, W) + B + R).
//
// Two APIs, chosen per batch by the tuned choice (cuda_conv.h's blob) or, untuned, graph
// first:
//   graph    cuDNN's backend API (cuda_conv_graph.h): one operation graph conv + bias +
//            residual + activation, an engine picked by timing at build time. Its tensors
//            are dense: a strided X (channel slice) and a residual laid out unlike the
//            output, or sharing the output's buffer (in-place would be a read/write race
//            inside one fused kernel), are first copied into the workspace; a strided Y,
//            or an activation the graph cannot express, goes through a packed temp and
//            our epilogue kernel (cuda_epilogue.h).
//   legacy   cudnnConvolutionBiasActivationForward / cudnnConvolutionForward, when the
//            tuned choice says so or the graph API has no engine for the shape:
//     fused    bias, residual (z, alpha2 = 1) and ReLU/identity in the convolution's own
//              epilogue. cuDNN allows identity only with IMPLICIT_PRECOMP_GEMM, and only
//              ReLU and identity at all; the output must be packed (NHWC or NCHW) and
//              the residual laid out like it.
//     unfused  cudnnConvolutionForward into a packed buffer (the output when it is packed,
//              else a workspace slice), then our epilogue for bias + residual + any
//              activation + the strided write. A residual that shares the output's buffer
//              is accumulated by cuDNN itself (beta = 1), which cuDNN documents as in-place.
//     Should cuDNN turn a fused configuration down at run time (NOT_SUPPORTED), the kernel
//     switches to the unfused path for good; both need the same workspace.
// A strided X is staged into a packed workspace copy on both paths (cuDNN refuses it).
//
// Workspace layout: [output temp | staged X | staged R | cuDNN workspace], 256-aligned.
//
// Weights are converted to the activation dtype and, for NHWC activations, reordered to
// KRSC (cuDNN's NHWC filter layout, what its tensor-core kernels read), once per engine.
#include "backends/cuda/cuda_conv.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>

#include "backends/cuda/cuda_conv_graph.h"
#include "backends/cuda/cuda_conv_staging.h"
#include "backends/cuda/cuda_epilogue.h"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_weights.h"
#include "backends/cuda/kernels_nhwc.h"

namespace inferd::cuda {
namespace {

// Whether the fused call may read z from the buffer it writes y to. cuDNN's reference
// does not promise it, so a residual aliasing the output takes the unfused path.
constexpr bool kFusedResidualInPlace = false;

// What a PackedOp shares, read-only, with all its kernels.
struct ConvPacked {
  int device = 0;
  ConvSpec spec;
  std::vector<ConvChoice> choices;  // empty: graph heuristic (else legacy heuristic) at reshape
  DeviceBuffer weights;             // KRSC (channels_last) or KCRS, activation dtype
  DeviceBuffer bias;                // [M] activation dtype; zeros when the node has none
  DeviceBuffer depthwise_filter;    // [kH][kW][C] activation dtype, for the own depthwise kernel
  DeviceBuffer direct_filter;       // [kH][kW][C][M] activation dtype, for the own direct kernel
  std::string implementation;
};

// Where each part of the workspace starts.
struct WorkspaceSlices {
  void* temp = nullptr;
  void* x = nullptr;
  void* r = nullptr;
  void* library = nullptr;
};

class ConvKernel final : public Kernel {
 public:
  explicit ConvKernel(std::shared_ptr<const ConvPacked> p) : p_(std::move(p)) {}
  Status init() { return init_conv_descriptors(d_, p_->spec); }

  Status reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) override;
  size_t workspace_bytes() const override { return temp_bytes_ + x_stage_bytes_ + r_stage_bytes_ + library_bytes_; }
  Status enqueue(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs,
                 const EnqueueContext& ctx) override;

 private:
  Status check_output_dims(const TensorView& y);
  ConvGraphState* prepare_graph(cudnnHandle_t handle, const ConstTensorView& x, const ConstTensorView* r,
                                const TensorView& y, const GraphEngineChoice* preferred);
  Status prepare_legacy(cudnnHandle_t handle, const ConvChoice* c, const ConstTensorView* r, const TensorView& y);
  Status choose_algo(cudnnHandle_t handle, const ConvChoice* c);
  Status choose_by_heuristic(cudnnHandle_t handle);
  WorkspaceSlices slices(void* workspace) const;
  Status run_graph(const void* x, const ConstTensorView* r, const TensorView& y, const WorkspaceSlices& ws,
                   const CudaStream& stream);
  Status run_legacy(const void* x, const ConstTensorView* r, const TensorView& y, const WorkspaceSlices& ws,
                    const CudaStream& stream);
  Status run_unfused(const void* x, const ConstTensorView* r, const TensorView& y, const WorkspaceSlices& ws,
                     cudaStream_t stream, cudnnHandle_t handle) const;
  Status run_own(const ConstTensorView& x, const ConstTensorView* r, const TensorView& y, cudaStream_t stream) const;

  std::shared_ptr<const ConvPacked> p_;
  ConvDescriptors d_;
  ConvGraphStates graph_states_;
  // Set by reshape(), both paths.
  bool out_packed_ = false;         // Y is dense: the library may write it directly
  bool out_channels_last_ = true;   // Y's channel stride is 1: the temp and the epilogue walk NHWC
  std::vector<int64_t> t_strides_;  // where the library writes: Y's strides or the packed temp's
  bool x_staged_ = false;           // X is strided or channel-padded: copied dense into the workspace first
  std::vector<int64_t> x_dims_;     // X's dims as the library reads it (channels padded or not)
  std::vector<int64_t> x_strides_;  // X's strides as the library reads it (staged or not)
  size_t temp_bytes_ = 0, x_stage_bytes_ = 0, r_stage_bytes_ = 0, library_bytes_ = 0;
  // The own kernel that runs it, if any (kDepthwise, kDirect; none: kLegacy): no workspace,
  // channels-last views of any pixel strides.
  ConvChoiceKind own_ = ConvChoiceKind::kLegacy;
  uint8_t own_variant_ = 0;
  const DeviceBuffer* own_filter_ = nullptr;
  // Graph path (graph_ non-null).
  ConvGraphState* graph_ = nullptr;
  bool graph_writes_y_ = false;  // else it writes the temp and the epilogue writes Y
  bool graph_fuses_act_ = false;
  bool r_staged_ = false;
  // Legacy path.
  cudnnConvolutionFwdAlgo_t algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  bool fusable_ = false;        // the fused call applies at this shape (unless R aliases Y)
  bool fused_refused_ = false;  // cuDNN said NOT_SUPPORTED once: unfused from then on
};

// Sets the legacy X/Y descriptors (the legacy path's, and cuDNN's output-size arithmetic).
Status ConvKernel::check_output_dims(const TensorView& y) {
  const ConvSpec& s = p_->spec;
  RETURN_IF_ERROR(set_tensor_desc(d_.x, s.dtype, x_dims_, x_strides_));
  RETURN_IF_ERROR(set_tensor_desc(d_.y, s.dtype, y.shape, t_strides_));
  int dims[4] = {};
  CUDNN_RETURN_IF_ERROR(
      cudnnGetConvolution2dForwardOutputDim(d_.conv, d_.x, d_.w, &dims[0], &dims[1], &dims[2], &dims[3]));
  for (int i = 0; i < 4; ++i)
    if (dims[i] != y.shape[i])
      return invalid_argument("Conv of " + to_string(x_dims_) + " gives [" + std::to_string(dims[0]) + "," +
                              std::to_string(dims[1]) + "," + std::to_string(dims[2]) + "," + std::to_string(dims[3]) +
                              "], but the output is " + to_string(y.shape));
  return Status::ok();
}

Status ConvKernel::reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) {
  RETURN_IF_ERROR(check_conv_views(p_->spec, p_->spec.dtype, inputs, outputs, "Conv"));
  const ConstTensorView& x = inputs[0];
  const TensorView& y = outputs[0];
  const ConstTensorView* r = p_->spec.has_residual ? &inputs[3] : nullptr;
  const size_t es = element_size(p_->spec.dtype);
  out_channels_last_ = y.strides[1] == 1;
  out_packed_ = is_packed(y.strides, y.shape);
  t_strides_ = out_packed_ ? y.strides : packed_strides(y.shape, out_channels_last_);
  const bool padded = pads_input_channels(p_->spec);
  x_dims_ = library_input_dims(p_->spec, x.shape);
  x_staged_ = padded || !is_packed(x.strides, x.shape);
  x_strides_ = x_staged_ ? packed_strides(x_dims_, padded || x.strides[1] == 1) : x.strides;
  x_stage_bytes_ = x_staged_ ? align256(static_cast<size_t>(element_count(x_dims_)) * es) : 0;
  RETURN_IF_ERROR(check_output_dims(y));

  const ConvChoice* c = choice_for_batch(p_->choices, x.shape[0]);
  graph_ = nullptr;
  // An own kernel where tuning chose it, and the depthwise one by default (untuned); they
  // read and write channels-last views of any pixel strides, so nothing is staged.
  const bool channels_last_views = x.strides[1] == 1 && out_channels_last_ && (!r || r->strides[1] == 1);
  const ConvChoiceKind wanted = c ? c->kind : ConvChoiceKind::kDepthwise;
  own_ = channels_last_views && own_kernel_applies(p_->spec, wanted) ? wanted : ConvChoiceKind::kLegacy;
  own_variant_ = c ? c->variant : 0;
  own_filter_ = own_ == ConvChoiceKind::kDepthwise ? &p_->depthwise_filter
                : own_ == ConvChoiceKind::kDirect  ? &p_->direct_filter
                                                   : nullptr;
  if (own_filter_) {
    temp_bytes_ = x_stage_bytes_ = r_stage_bytes_ = library_bytes_ = 0;
    x_staged_ = false;
    return Status::ok();
  }
  ASSIGN_OR_RETURN(QueryHandle handle, QueryHandle::acquire(p_->device));
  // The operation graph describes X, W and Y in one layout: the one the filter was packed
  // for. Mixed layouts (never planned, but legal views) run on the legacy API: the graph path
  // gave wrong fp16 results for NCHW-in/NHWC-out on the H200 (2026-12-03 run), the legacy
  // API refuses what it cannot do with an error.
  const bool x_last = x_strides_[1] == 1 || x_dims_[1] == 1;
  const bool one_layout = x_last == p_->spec.channels_last && out_channels_last_ == p_->spec.channels_last;
  if (one_layout && (!c || c->kind == ConvChoiceKind::kGraph))
    graph_ = prepare_graph(handle.get(), x, r, y, c ? &c->engine : nullptr);
  if (graph_ == nullptr) return prepare_legacy(handle.get(), c, r, y);
  temp_bytes_ = graph_writes_y_ ? 0 : align256(static_cast<size_t>(y.size()) * es);
  r_stage_bytes_ = r_staged_ ? align256(static_cast<size_t>(y.size()) * es) : 0;
  library_bytes_ = graph_->plan->workspace_bytes();
  return Status::ok();
}

// The graph state for this shape when the graph API has an engine for it, else null.
ConvGraphState* ConvKernel::prepare_graph(cudnnHandle_t handle, const ConstTensorView& x, const ConstTensorView* r,
                                          const TensorView& y, const GraphEngineChoice* preferred) {
  const ConvSpec& s = p_->spec;
  graph_fuses_act_ = graph_activation_supported(s.act);
  graph_writes_y_ = out_packed_ && graph_fuses_act_;
  // R must be dense like what the graph writes, and must not be what it writes.
  r_staged_ = r && (r->strides != t_strides_ || (graph_writes_y_ && r->data == y.data));
  ConvGraphShape shape;
  shape.x = graph_layout(x_dims_, x_strides_);
  shape.y = graph_layout(y.shape, t_strides_);
  shape.x_alignment = x_staged_ ? 16 : alignment_of(x.data);
  shape.y_alignment = graph_writes_y_ ? alignment_of(y.data) : 16;
  shape.r_alignment = r && !r_staged_ ? alignment_of(r->data) : 16;
  shape.fuse_activation = graph_fuses_act_;
  ConvGraphState& state = graph_states_.find_or_build(handle, s, shape, preferred);
  return state.plan ? &state : nullptr;
}

Status ConvKernel::prepare_legacy(cudnnHandle_t handle, const ConvChoice* c, const ConstTensorView* r,
                                  const TensorView& y) {
  const ConvSpec& s = p_->spec;
  r_staged_ = false;
  RETURN_IF_ERROR(choose_algo(handle, c && c->kind == ConvChoiceKind::kLegacy ? c : nullptr));
  temp_bytes_ = out_packed_ ? 0 : align256(static_cast<size_t>(y.size()) * element_size(s.dtype));
  r_stage_bytes_ = 0;
  const bool residual_ok = !r || r->strides == y.strides;
  fusable_ = out_packed_ && residual_ok && fusable_activation(s.act) &&
             (s.act.kind == ir::Activation::Kind::kRelu || algo_ == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
  return Status::ok();
}

// The tuned legacy entry when cuDNN still accepts it at this shape, else the heuristic.
Status ConvKernel::choose_algo(cudnnHandle_t handle, const ConvChoice* c) {
  const ConvSpec& s = p_->spec;
  if (c) {
    CUDNN_RETURN_IF_ERROR(cudnnSetConvolutionMathType(d_.conv, math_allowed(s, c->math) ? c->math : default_math(s)));
    size_t bytes = 0;
    if (cudnnGetConvolutionForwardWorkspaceSize(handle, d_.x, d_.w, d_.conv, d_.y, c->algo, &bytes) ==
            CUDNN_STATUS_SUCCESS &&
        bytes <= kConvWorkspaceCap) {
      algo_ = c->algo;
      library_bytes_ = bytes;
      return Status::ok();
    }
  }
  return choose_by_heuristic(handle);
}

// cuDNN's own ranking: the first candidate that works within the workspace cap and whose
// math type the precision allows; IMPLICIT_GEMM (no workspace, always there) otherwise.
Status ConvKernel::choose_by_heuristic(cudnnHandle_t handle) {
  const ConvSpec& s = p_->spec;
  CUDNN_RETURN_IF_ERROR(cudnnSetConvolutionMathType(d_.conv, default_math(s)));
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT] = {};
  int returned = 0;
  CUDNN_RETURN_IF_ERROR(cudnnGetConvolutionForwardAlgorithm_v7(handle, d_.x, d_.w, d_.conv, d_.y,
                                                               CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf));
  for (int i = 0; i < returned; ++i) {
    const cudnnConvolutionFwdAlgoPerf_t& p = perf[i];
    if (p.status != CUDNN_STATUS_SUCCESS || p.memory > kConvWorkspaceCap || !math_allowed(s, p.mathType)) continue;
    CUDNN_RETURN_IF_ERROR(cudnnSetConvolutionMathType(d_.conv, p.mathType));
    size_t bytes = 0;
    if (cudnnGetConvolutionForwardWorkspaceSize(handle, d_.x, d_.w, d_.conv, d_.y, p.algo, &bytes) !=
        CUDNN_STATUS_SUCCESS)
      continue;
    algo_ = p.algo;
    library_bytes_ = bytes;
    return Status::ok();
  }
  CUDNN_RETURN_IF_ERROR(cudnnSetConvolutionMathType(d_.conv, default_math(s)));
  algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  CUDNN_RETURN_IF_ERROR(
      cudnnGetConvolutionForwardWorkspaceSize(handle, d_.x, d_.w, d_.conv, d_.y, algo_, &library_bytes_));
  return Status::ok();
}

WorkspaceSlices ConvKernel::slices(void* workspace) const {
  char* base = static_cast<char*>(workspace);
  WorkspaceSlices ws;
  ws.temp = base;
  ws.x = base + temp_bytes_;
  ws.r = base + temp_bytes_ + x_stage_bytes_;
  ws.library = base + temp_bytes_ + x_stage_bytes_ + r_stage_bytes_;
  return ws;
}

Status ConvKernel::enqueue(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs,
                           const EnqueueContext& ctx) {
  if (ctx.workspace_bytes < workspace_bytes() || (workspace_bytes() > 0 && ctx.workspace == nullptr))
    return internal_error("Conv given " + std::to_string(ctx.workspace_bytes) + " bytes of workspace, needs " +
                          std::to_string(workspace_bytes()));
  const CudaStream& stream = cuda_stream(ctx);
  const ConstTensorView& x = inputs[0];
  const TensorView& y = outputs[0];
  const ConstTensorView* r = p_->spec.has_residual ? &inputs[3] : nullptr;
  if (own_filter_) return run_own(x, r, y, stream.get());
  const WorkspaceSlices ws = slices(ctx.workspace);
  const void* x_data = x.data;
  if (x_staged_ && pads_input_channels(p_->spec)) {
    RETURN_IF_ERROR(stage_padded(x, x_dims_[1], ws.x, stream.get()));
    x_data = ws.x;
  } else if (x_staged_) {
    RETURN_IF_ERROR(stage(x, x_strides_, ws.x, stream.get()));
    x_data = ws.x;
  }
  if (graph_) return run_graph(x_data, r, y, ws, stream);
  return run_legacy(x_data, r, y, ws, stream);
}

Status ConvKernel::run_graph(const void* x, const ConstTensorView* r, const TensorView& y, const WorkspaceSlices& ws,
                             const CudaStream& stream) {
  const ConvSpec& s = p_->spec;
  const void* r_data = r ? r->data : nullptr;
  if (r_staged_) {
    RETURN_IF_ERROR(stage(*r, t_strides_, ws.r, stream.get()));
    r_data = ws.r;
  } else if (r && graph_writes_y_ && r->data == y.data) {
    return internal_error("Conv's residual shares the output's buffer, which its reshape did not see");
  }
  GraphPointers p;
  p.x = x;
  p.w = p_->weights.data();
  p.bias = s.has_bias ? p_->bias.data() : nullptr;
  p.residual = r_data;
  p.y = graph_writes_y_ ? y.data : ws.temp;
  p.workspace = library_bytes_ > 0 ? ws.library : nullptr;
  const ConvGraphShape& shape = graph_->shape;
  if (alignment_of(p.x) < shape.x_alignment || alignment_of(p.y) < shape.y_alignment ||
      (r_data && alignment_of(r_data) < shape.r_alignment))
    return internal_error("Conv's pointers lost the alignment its reshape planned for");
  ASSIGN_OR_RETURN(cudnnBackendDescriptor_t pack, graph_->packs.find_or_build(graph_->plan->graph(), p));
  RETURN_IF_ERROR(execute_plan(stream.cudnn(), *graph_->plan, pack));
  if (graph_writes_y_) return Status::ok();
  // The temp holds act(conv + B + R), or conv + B + R when the graph cannot apply act.
  EpilogueArgs a;
  a.dtype = s.dtype;
  a.t = ws.temp;
  a.y = y.data;
  if (!graph_fuses_act_) a.act = s.act;
  a.channels_last = out_channels_last_;
  for (int i = 0; i < 4; ++i) {
    a.dims[i] = y.shape[i];
    a.t_strides[i] = t_strides_[i];
    a.y_strides[i] = y.strides[i];
  }
  return launch_epilogue(a, stream.get());
}

Status ConvKernel::run_legacy(const void* x, const ConstTensorView* r, const TensorView& y, const WorkspaceSlices& ws,
                              const CudaStream& stream) {
  const bool r_aliases_y = r && r->data == y.data;
  if (fusable_ && !fused_refused_ && (!r_aliases_y || kFusedResidualInPlace)) {
    const float alpha1 = 1.0f, alpha2 = r ? 1.0f : 0.0f;
    const cudnnStatus_t st = cudnnConvolutionBiasActivationForward(
        stream.cudnn(), &alpha1, d_.x, x, d_.w, p_->weights.data(), d_.conv, algo_, ws.library, library_bytes_, &alpha2,
        d_.y, r ? r->data : y.data, d_.bias, p_->bias.data(), d_.act, d_.y, y.data);
    if (st != CUDNN_STATUS_NOT_SUPPORTED) return cudnn_status(st, "cudnnConvolutionBiasActivationForward");
    fused_refused_ = true;
  }
  return run_unfused(x, r, y, ws, stream.get(), stream.cudnn());
}

Status ConvKernel::run_unfused(const void* x, const ConstTensorView* r, const TensorView& y, const WorkspaceSlices& ws,
                               cudaStream_t stream, cudnnHandle_t handle) const {
  const ConvSpec& s = p_->spec;
  void* target = out_packed_ ? y.data : ws.temp;
  // A residual living in the output buffer is already where cuDNN writes: blend it in.
  const bool residual_in_target = r && out_packed_ && r->data == y.data;
  const float alpha = 1.0f, beta = residual_in_target ? 1.0f : 0.0f;
  CUDNN_RETURN_IF_ERROR(cudnnConvolutionForward(handle, &alpha, d_.x, x, d_.w, p_->weights.data(), d_.conv, algo_,
                                                ws.library, library_bytes_, &beta, d_.y, target));
  const bool add_residual = r && !residual_in_target;
  if (out_packed_ && !s.has_bias && !add_residual && s.act.is_identity()) return Status::ok();
  EpilogueArgs a;
  a.dtype = s.dtype;
  a.t = target;
  a.bias = s.has_bias ? p_->bias.data() : nullptr;
  a.residual = add_residual ? r->data : nullptr;
  a.y = y.data;
  a.act = s.act;
  a.channels_last = out_channels_last_;
  for (int i = 0; i < 4; ++i) {
    a.dims[i] = y.shape[i];
    a.t_strides[i] = t_strides_[i];
    a.r_strides[i] = add_residual ? r->strides[i] : 0;
    a.y_strides[i] = y.strides[i];
  }
  return launch_epilogue(a, stream);
}

Status ConvKernel::run_own(const ConstTensorView& x, const ConstTensorView* r, const TensorView& y,
                           cudaStream_t stream) const {
  ConstDeviceTensor xt, rt;
  DeviceTensor yt;
  if (!to_device_tensor(x, &xt) || !to_device_tensor(y, &yt) || (r && !to_device_tensor(*r, &rt)))
    return internal_error("Conv cannot pass its views to its own kernel");
  return launch_own_conv(own_, own_variant_, p_->spec, own_filter_->data(),
                         p_->spec.has_bias ? p_->bias.data() : nullptr, xt, r ? &rt : nullptr, yt, stream);
}

class ConvOp final : public PackedOp {
 public:
  explicit ConvOp(std::shared_ptr<const ConvPacked> p) : p_(std::move(p)) {}
  Result<std::unique_ptr<Kernel>> create_kernel() const override {
    auto kernel = std::make_unique<ConvKernel>(p_);
    RETURN_IF_ERROR(kernel->init());
    return std::unique_ptr<Kernel>(std::move(kernel));
  }
  std::string_view implementation() const override { return p_->implementation; }

 private:
  std::shared_ptr<const ConvPacked> p_;
};

// "cudnn-graph:conv eng=12", "cudnn:conv implicit_precomp_gemm", "cuda:depthwise_conv", or
// several joined by "/" when tuned batches chose differently; untuned: the own depthwise
// kernel for depthwise convolutions, else the graph heuristic (legacy fallback).
std::string implementation_name(const ConvSpec& spec, std::span<const ConvChoice> choices) {
  if (choices.empty()) return spec.depthwise ? "cuda:depthwise_conv" : "cudnn-graph:conv heuristic";
  // A tuned own kernel the spec cannot run falls back to the graph heuristic at reshape.
  std::set<std::string> names;
  std::string joined;
  for (const ConvChoice& c : choices) {
    const bool own = c.kind == ConvChoiceKind::kDepthwise || c.kind == ConvChoiceKind::kDirect;
    const std::string name = c.kind == ConvChoiceKind::kGraph ? graph_engine_name(c.engine)
                             : own                            ? own_kernel_name(c.kind, c.variant)
                                                              : "cudnn:conv " + std::string(algo_name(c.algo));
    if (names.insert(name).second) joined += (joined.empty() ? "" : "/") + name;
  }
  return joined;
}

Result<std::unique_ptr<PackedOp>> pack_conv_impl(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                                 const PackOptions& options) {
  auto p = std::make_shared<ConvPacked>();
  p->device = env.device;
  ASSIGN_OR_RETURN(p->spec, conv_spec(graph, node, options.precision));
  ASSIGN_OR_RETURN(p->choices, decode_conv_choices(options.choices));
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  const Tensor& w = *graph.value(node.inputs[1]).constant;
  ASSIGN_OR_RETURN(p->weights,
                   upload_weights(filter_values(w, p->spec.channels_last, p->spec.in_per_group), p->spec.dtype));
  std::vector<float> bias(static_cast<size_t>(p->spec.out_channels), 0.0f);
  if (p->spec.has_bias) {
    const std::span<const float> b = graph.value(node.inputs[2]).constant->floats();
    std::copy(b.begin(), b.end(), bias.begin());
  }
  ASSIGN_OR_RETURN(p->bias, upload_weights(bias, p->spec.dtype));
  if (p->spec.depthwise) {
    ASSIGN_OR_RETURN(p->depthwise_filter, upload_weights(depthwise_filter_values(w), p->spec.dtype));
  }
  const auto wants = [&](ConvChoiceKind kind) {
    return std::any_of(p->choices.begin(), p->choices.end(), [&](const ConvChoice& c) { return c.kind == kind; });
  };
  if (p->spec.direct && wants(ConvChoiceKind::kDirect)) {
    ASSIGN_OR_RETURN(p->direct_filter, upload_weights(direct_filter_values(w), p->spec.dtype));
  }
  p->implementation = implementation_name(p->spec, p->choices);
  return std::unique_ptr<PackedOp>(std::make_unique<ConvOp>(std::move(p)));
}

}  // namespace

Status check_conv_views(const ConvSpec& s, DataType x_dtype, std::span<const ConstTensorView> inputs,
                        std::span<const TensorView> outputs, const std::string& kernel) {
  if (inputs.size() < 2 || outputs.empty()) return internal_error(kernel + " kernel given too few views");
  const auto ok = [](const auto& v, DataType dtype) {
    return v.data != nullptr && v.memory == MemoryKind::kDevice && v.dtype == dtype && v.shape.size() == 4 &&
           v.strides.size() == 4;
  };
  if (!ok(inputs[0], x_dtype) || !ok(outputs[0], s.dtype))
    return internal_error(kernel + " expects 4-D device views, X " + to_string(x_dtype) + " and Y " +
                          to_string(s.dtype));
  if (s.has_residual && (inputs.size() < 4 || !ok(inputs[3], s.dtype) || inputs[3].shape != outputs[0].shape))
    return internal_error(kernel + " expects a device residual shaped like Y");
  return Status::ok();
}

bool supports_conv(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != ir::OpKind::kConv) return false;
  if (node.attrs.has("input_scale")) return supports_conv_int8(graph, node);
  return conv_spec(graph, node, "fp32").is_ok();
}

Result<std::unique_ptr<PackedOp>> pack_conv(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const PackOptions& options) {
  if (node.attrs.has("input_scale")) return pack_conv_int8(env, graph, node, options);
  Result<std::unique_ptr<PackedOp>> op = pack_conv_impl(env, graph, node, options);
  if (!op.is_ok()) return op.status().with_context(ir::describe(graph, node));
  return op;
}

}  // namespace inferd::cuda
