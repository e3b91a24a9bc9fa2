// Conv through cuDNN's legacy API: Y = act(conv(X, W) + B + R).
//
// Two ways to run, decided per shape (reshape) and per call (enqueue):
//   fused    cudnnConvolutionBiasActivationForward: bias, residual (z, alpha2 = 1) and
//            ReLU/identity in the convolution's own epilogue. cuDNN allows identity only
//            with IMPLICIT_PRECOMP_GEMM, and only ReLU and identity at all; the output
//            must be packed (NHWC or NCHW) and the residual laid out like it.
//   unfused  cudnnConvolutionForward into a packed buffer (the output when it is packed,
//            else a workspace slice), then one epilogue kernel of ours (cuda_epilogue.h)
//            for bias + residual + any activation + the strided write (concat slices).
//            A residual that shares the output's buffer is accumulated by cuDNN itself
//            (beta = 1), which the library documents as in-place.
// Should cuDNN turn a fused configuration down at run time (NOT_SUPPORTED), the kernel
// switches to the unfused path for good; both need the same workspace.
//
// Weights are converted to the activation dtype and, for NHWC activations, reordered to
// KRSC (cuDNN's NHWC filter layout, what its tensor-core kernels read), once per engine.
#include "backends/cuda/cuda_conv.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>

#include "backends/cuda/cuda_epilogue.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_weights.h"

namespace inferd::cuda {
namespace {

// Whether the fused call may read z from the buffer it writes y to. cuDNN's reference
// does not promise it, so a residual aliasing the output takes the unfused path.
constexpr bool kFusedResidualInPlace = false;

// What a PackedOp shares, read-only, with all its kernels.
struct ConvPacked {
  int device = 0;
  ConvSpec spec;
  std::vector<ConvChoice> choices;  // empty: cuDNN's heuristic at reshape
  DeviceBuffer weights;             // KRSC (channels_last) or KCRS, activation dtype
  DeviceBuffer bias;                // [M] activation dtype; zeros when the node has none
  std::string implementation;
};

bool same_layout(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  return a == b;
}

class ConvKernel final : public Kernel {
 public:
  explicit ConvKernel(std::shared_ptr<const ConvPacked> p) : p_(std::move(p)) {}
  Status init() { return init_conv_descriptors(d_, p_->spec); }

  Status reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) override;
  size_t workspace_bytes() const override { return temp_bytes_ + cudnn_workspace_; }
  Status enqueue(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs,
                 const EnqueueContext& ctx) override;

 private:
  Status check_views(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) const;
  Status choose_algo(cudnnHandle_t handle, int64_t batch);
  Status choose_by_heuristic(cudnnHandle_t handle);
  Status run_unfused(const ConstTensorView& x, const ConstTensorView* r, const TensorView& y, void* workspace,
                     cudaStream_t stream, cudnnHandle_t handle) const;

  std::shared_ptr<const ConvPacked> p_;
  ConvDescriptors d_;
  // Set by reshape().
  cudnnConvolutionFwdAlgo_t algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  size_t cudnn_workspace_ = 0, temp_bytes_ = 0;
  bool out_packed_ = false;         // cuDNN writes Y directly
  bool out_channels_last_ = true;   // Y's channel stride is 1: the temp and the epilogue walk NHWC
  bool fusable_ = false;            // the fused call applies at this shape (unless R aliases Y)
  std::vector<int64_t> t_strides_;  // where cuDNN writes: Y's strides or the packed temp's
  bool fused_refused_ = false;      // cuDNN said NOT_SUPPORTED once: unfused from then on
};

Status ConvKernel::check_views(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) const {
  const ConvSpec& s = p_->spec;
  if (inputs.size() < 2 || outputs.empty()) return internal_error("Conv kernel given too few views");
  const auto ok = [&](const auto& v) {
    return v.data != nullptr && v.memory == MemoryKind::kDevice && v.dtype == s.dtype && v.shape.size() == 4 &&
           v.strides.size() == 4;
  };
  if (!ok(inputs[0]) || !ok(outputs[0]))
    return internal_error(std::string("Conv expects 4-D ") + to_string(s.dtype) + " device views for X and Y");
  if (s.has_residual && (inputs.size() < 4 || !ok(inputs[3]) || inputs[3].shape != outputs[0].shape))
    return internal_error("Conv expects a device residual shaped like Y");
  return Status::ok();
}

Status ConvKernel::reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) {
  RETURN_IF_ERROR(check_views(inputs, outputs));
  const ConstTensorView& x = inputs[0];
  const TensorView& y = outputs[0];
  const ConvSpec& s = p_->spec;
  RETURN_IF_ERROR(set_tensor_desc(d_.x, s.dtype, x.shape, x.strides));
  out_channels_last_ = y.strides[1] == 1;
  out_packed_ =
      same_layout(y.strides, packed_strides(y.shape, true)) || same_layout(y.strides, packed_strides(y.shape, false));
  t_strides_ = out_packed_ ? y.strides : packed_strides(y.shape, out_channels_last_);
  RETURN_IF_ERROR(set_tensor_desc(d_.y, s.dtype, y.shape, t_strides_));

  int dims[4] = {};
  CUDNN_RETURN_IF_ERROR(
      cudnnGetConvolution2dForwardOutputDim(d_.conv, d_.x, d_.w, &dims[0], &dims[1], &dims[2], &dims[3]));
  for (int i = 0; i < 4; ++i)
    if (dims[i] != y.shape[i])
      return invalid_argument("Conv of " + to_string(x.shape) + " gives [" + std::to_string(dims[0]) + "," +
                              std::to_string(dims[1]) + "," + std::to_string(dims[2]) + "," + std::to_string(dims[3]) +
                              "], but the output is " + to_string(y.shape));
  {
    ASSIGN_OR_RETURN(QueryHandle handle, QueryHandle::acquire(p_->device));
    RETURN_IF_ERROR(choose_algo(handle.get(), x.shape[0]));
  }
  temp_bytes_ = out_packed_ ? 0 : align256(static_cast<size_t>(y.size()) * element_size(s.dtype));
  const bool residual_ok = !s.has_residual || same_layout(inputs[3].strides, y.strides);
  fusable_ = out_packed_ && residual_ok && fusable_activation(s.act) &&
             (s.act.kind == ir::Activation::Kind::kRelu || algo_ == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
  return Status::ok();
}

// The tuned entry for this batch when cuDNN still accepts it at this shape, else the heuristic.
Status ConvKernel::choose_algo(cudnnHandle_t handle, int64_t batch) {
  const ConvSpec& s = p_->spec;
  if (const ConvChoice* c = choice_for_batch(p_->choices, batch)) {
    CUDNN_RETURN_IF_ERROR(cudnnSetConvolutionMathType(d_.conv, math_allowed(s, c->math) ? c->math : default_math(s)));
    size_t bytes = 0;
    if (cudnnGetConvolutionForwardWorkspaceSize(handle, d_.x, d_.w, d_.conv, d_.y, c->algo, &bytes) ==
            CUDNN_STATUS_SUCCESS &&
        bytes <= kConvWorkspaceCap) {
      algo_ = c->algo;
      cudnn_workspace_ = bytes;
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
    cudnn_workspace_ = bytes;
    return Status::ok();
  }
  CUDNN_RETURN_IF_ERROR(cudnnSetConvolutionMathType(d_.conv, default_math(s)));
  algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  CUDNN_RETURN_IF_ERROR(
      cudnnGetConvolutionForwardWorkspaceSize(handle, d_.x, d_.w, d_.conv, d_.y, algo_, &cudnn_workspace_));
  return Status::ok();
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
  const bool r_aliases_y = r && r->data == y.data;
  void* cudnn_ws = static_cast<char*>(ctx.workspace) + temp_bytes_;
  if (fusable_ && !fused_refused_ && (!r_aliases_y || kFusedResidualInPlace)) {
    const float alpha1 = 1.0f, alpha2 = r ? 1.0f : 0.0f;
    const cudnnStatus_t st = cudnnConvolutionBiasActivationForward(
        stream.cudnn(), &alpha1, d_.x, x.data, d_.w, p_->weights.data(), d_.conv, algo_, cudnn_ws, cudnn_workspace_,
        &alpha2, d_.y, r ? r->data : y.data, d_.bias, p_->bias.data(), d_.act, d_.y, y.data);
    if (st != CUDNN_STATUS_NOT_SUPPORTED) return cudnn_status(st, "cudnnConvolutionBiasActivationForward");
    fused_refused_ = true;
  }
  return run_unfused(x, r, y, ctx.workspace, stream.get(), stream.cudnn());
}

Status ConvKernel::run_unfused(const ConstTensorView& x, const ConstTensorView* r, const TensorView& y, void* workspace,
                               cudaStream_t stream, cudnnHandle_t handle) const {
  const ConvSpec& s = p_->spec;
  void* target = out_packed_ ? y.data : workspace;
  // A residual living in the output buffer is already where cuDNN writes: blend it in.
  const bool residual_in_target = r && out_packed_ && r->data == y.data;
  const float alpha = 1.0f, beta = residual_in_target ? 1.0f : 0.0f;
  CUDNN_RETURN_IF_ERROR(cudnnConvolutionForward(handle, &alpha, d_.x, x.data, d_.w, p_->weights.data(), d_.conv, algo_,
                                                static_cast<char*>(workspace) + temp_bytes_, cudnn_workspace_, &beta,
                                                d_.y, target));
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

// W [M, C/g, kH, kW] as KRSC [M, kH, kW, C/g] (cuDNN's NHWC filter) or unchanged.
std::vector<float> filter_values(const Tensor& w, bool channels_last) {
  const std::span<const float> src = w.floats();
  if (!channels_last) return {src.begin(), src.end()};
  const int64_t m = w.shape()[0], c = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  std::vector<float> out(src.size());
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < c; ++i)
      for (int64_t h = 0; h < kh; ++h)
        for (int64_t v = 0; v < kw; ++v) out[((o * kh + h) * kw + v) * c + i] = src[((o * c + i) * kh + h) * kw + v];
  return out;
}

std::string implementation_name(std::span<const ConvChoice> choices) {
  if (choices.empty()) return "cudnn:conv heuristic";
  std::set<std::string> names;
  std::string joined;
  for (const ConvChoice& c : choices)
    if (names.insert(algo_name(c.algo)).second) joined += (joined.empty() ? "" : "/") + std::string(algo_name(c.algo));
  return "cudnn:conv " + joined;
}

Result<std::unique_ptr<PackedOp>> pack_conv_impl(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                                 const PackOptions& options) {
  auto p = std::make_shared<ConvPacked>();
  p->device = env.device;
  ASSIGN_OR_RETURN(p->spec, conv_spec(graph, node, options.precision));
  ASSIGN_OR_RETURN(p->choices, decode_conv_choices(options.choices));
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  const Tensor& w = *graph.value(node.inputs[1]).constant;
  ASSIGN_OR_RETURN(p->weights, upload_weights(filter_values(w, p->spec.channels_last), p->spec.dtype));
  std::vector<float> bias(static_cast<size_t>(p->spec.out_channels), 0.0f);
  if (p->spec.has_bias) {
    const std::span<const float> b = graph.value(node.inputs[2]).constant->floats();
    std::copy(b.begin(), b.end(), bias.begin());
  }
  ASSIGN_OR_RETURN(p->bias, upload_weights(bias, p->spec.dtype));
  p->implementation = implementation_name(p->choices);
  return std::unique_ptr<PackedOp>(std::make_unique<ConvOp>(std::move(p)));
}

}  // namespace

bool supports_conv(const ir::Graph& graph, const ir::Node& node) {
  return node.op == ir::OpKind::kConv && conv_spec(graph, node, "fp32").is_ok();
}

Result<std::unique_ptr<PackedOp>> pack_conv(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const PackOptions& options) {
  Result<std::unique_ptr<PackedOp>> op = pack_conv_impl(env, graph, node, options);
  if (!op.is_ok()) return op.status().with_context(ir::describe(graph, node));
  return op;
}

}  // namespace inferd::cuda
