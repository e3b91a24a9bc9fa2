// Conv with an INT8 input (quantized_layer_folding's attributes: input_scale, input_qmin,
// input_qmax, weight_scales) on the GPU, two ways, the faster per batch as tuned at build
// time (cuda_conv_int8_tune.cc):
//   - cuDNN's INT8 engines, for float activations in and out: the input is rounded onto its
//     grid and stored as int8 levels, packed NHWC with the convolution's padding written out
//     as the level of 0 (kernels_quantize.h; a uint8 grid, a ReLU's output, is stored
//     shifted by -128, as cuDNN has no engine for uint8 input on sm_90: docs/benchmarks.md,
//     "Quantized convolutions in cuDNN"), then one operation graph (cuda_conv_graph.h):
//     conv(X int8, W int8) in int32, times scale[k] = input_scale x weight_scale[k], plus
//     the bias with the shift's correction folded in (backends/api/int8_conv_constants.h),
//     plus the residual, then the activation, written as the output's float dtype;
//   - the own implicit GEMM (kernels_int8_conv.h), over the same packed levels or over the
//     input's own int8 / uint8 levels where the convolution before stored them so
//     (int8_storage: no quantize pass), writing the output through its strides, rounded onto
//     the output's grid where the node asks (output_scale) or as levels (int8_storage).
//     Levels in or out and rounded outputs only it computes.
// The numerics are the reference kernel's for the folded Conv up to float rounding of the
// int32 sums' scaling (the sums themselves are exact).
//
// What it takes: see int8_spec (cuda_conv_int8.h). cuDNN may still have no engine for a
// shape: reshape() then fails kUnimplemented, which the build's clock reads as "keep this
// layer float".
//
// Workspace: [padded int8 X (not for levels read as they are) | dense NHWC temp (cuDNN's
// temp path only) | cuDNN workspace], 256-aligned.
#include "backends/cuda/cuda_conv_int8.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "backends/api/int8_conv_constants.h"
#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_conv_graph.h"
#include "backends/cuda/cuda_conv_staging.h"
#include "backends/cuda/cuda_epilogue.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_weights.h"
#include "backends/cuda/kernels_int8_conv.h"
#include "backends/cuda/kernels_quantize.h"
#include "core/levels.h"

namespace inferd::cuda {

ConvSpec graph_spec(ConvSpec s) {
  s.pad_h = s.pad_w = 0;
  s.has_bias = true;
  s.dtype = DataType::kFloat16;
  s.strict_fp32 = false;
  return s;
}

ConvGraphShape direct_shape(const std::vector<int64_t>& padded_x, const std::vector<int64_t>& y_dims,
                            cudnnDataType_t float_type) {
  ConvGraphTypes types;
  types.y = types.residual = float_type;
  ConvGraphShape shape;
  shape.x = graph_layout(padded_x, packed_strides(padded_x, true));
  shape.y = graph_layout(y_dims, packed_strides(y_dims, true));
  shape.types = types;
  return shape;
}

std::vector<int64_t> padded_dims(std::vector<int64_t> x, int pad_h, int pad_w) {
  x[2] += 2 * pad_h;
  x[3] += 2 * pad_w;
  return x;
}

Int8ConvArgs own_conv_args(const Int8Spec& spec, const std::vector<int64_t>& x_dims, int pad_h, int pad_w) {
  const ConvSpec& s = spec.conv;
  Int8ConvArgs a;
  a.n = static_cast<int>(x_dims[0]);
  a.channels = static_cast<int>(x_dims[1]);
  a.in_h = static_cast<int>(x_dims[2]);
  a.in_w = static_cast<int>(x_dims[3]);
  a.pad_h = pad_h;
  a.pad_w = pad_w;
  a.out_channels = static_cast<int>(s.out_channels);
  a.kernel_h = s.kernel_h;
  a.kernel_w = s.kernel_w;
  a.stride_h = s.stride_h;
  a.stride_w = s.stride_w;
  a.dilation_h = s.dilation_h;
  a.dilation_w = s.dilation_w;
  a.out_h = (a.in_h + 2 * pad_h - s.dilation_h * (s.kernel_h - 1) - 1) / s.stride_h + 1;
  a.out_w = (a.in_w + 2 * pad_w - s.dilation_w * (s.kernel_w - 1) - 1) / s.stride_w + 1;
  a.dtype = s.dtype;
  a.act = s.act;
  a.output_scale = spec.output_scale;
  a.output_lo = spec.output_lo;
  a.output_hi = spec.output_hi;
  a.output_zero_point = spec.output_zero_point;
  return a;
}

namespace {

// The output's grid (output_scale): rounded values, or (int8 / uint8 output) their levels,
// typed like the grid and without zero point.
Status read_output_grid(const ir::Node& node, DataType y_dtype, Int8Spec& s) {
  if (!node.attrs.has("output_scale")) {
    if (is_levels(y_dtype)) return unimplemented("an INT8 output without the output grid it holds the levels of");
    return Status::ok();
  }
  s.output_scale = node.attrs.get_float("output_scale", 0.0f);
  const int64_t zero_point = node.attrs.get_int("output_zero_point", 0);
  const int64_t qmin = node.attrs.get_int("output_qmin", -128), qmax = node.attrs.get_int("output_qmax", 127);
  if (!(s.output_scale > 0) || qmin > qmax) return invalid_argument("an output grid without a positive scale");
  s.output_zero_point = static_cast<int>(zero_point);
  s.output_lo = static_cast<float>(qmin - zero_point);
  s.output_hi = static_cast<float>(qmax - zero_point);
  if (!is_levels(y_dtype)) return Status::ok();
  const bool fits = y_dtype == DataType::kUint8 ? qmin >= 0 && qmax <= 255 : qmin >= -128 && qmax <= 127;
  if (node.attrs.get_int("output_levels", 0) != 1 || zero_point != 0 || !fits)
    return unimplemented("INT8 output levels other than a symmetric grid of their type");
  return Status::ok();
}

}  // namespace

bool int8_levels_enabled() {
  const char* value = std::getenv("INFERD_CUDA_INT8_LEVELS");
  return value != nullptr && std::string_view(value) == "1";
}

Result<Int8Spec> int8_spec(const ir::Graph& graph, const ir::Node& node) {
  Int8Spec s;
  ASSIGN_OR_RETURN(s.conv, conv_spec(graph, node, "fp16", /*int8_io=*/true));
  const ir::Value& x = graph.value(node.inputs[0]);
  const ir::Value& y = graph.value(node.outputs[0]);
  if (s.conv.group != 1) return unimplemented("no grouped INT8 convolutions on CUDA");
  if (x.shape[1] % 8 != 0 || s.conv.out_channels % 8 != 0)
    return unimplemented("INT8 convolutions need input and output channels in multiples of 8");
  s.x_dtype = x.dtype;
  s.input_qmin = node.attrs.get_int("input_qmin", -128);
  s.input_qmax = node.attrs.get_int("input_qmax", 127);
  const bool unsigned_grid = s.input_qmin == 0 && s.input_qmax == 255;
  if (!unsigned_grid && !((s.input_qmin == -128 || s.input_qmin == -127) && s.input_qmax == 127))
    return unimplemented("an INT8 input grid other than int8 or uint8");
  if (node.attrs.get_int("input_zero_point", 0) != 0) return unimplemented("an INT8 input with a zero point");
  if (is_levels(x.dtype) && (x.dtype == DataType::kUint8) != unsigned_grid)
    return unimplemented("INT8 input levels typed unlike their grid");
  RETURN_IF_ERROR(read_output_grid(node, y.dtype, s));
  s.own_only = is_levels(x.dtype) || is_levels(y.dtype) || s.output_scale > 0;
  if (s.own_only && !int8_levels_enabled())
    return unimplemented(
        "INT8 levels in or out and rounded outputs are off on the GPU (INFERD_CUDA_INT8_LEVELS=1 turns them on): "
        "the own kernel that computes them is slower than cuDNN's INT8 engines so far");
  if (s.own_only && !int8_conv_kernel_applies(x.shape[1], s.conv.out_channels))
    return unimplemented("INT8 levels or rounded outputs need input channels in multiples of 16");
  if (!s.own_only && !graph_activation_supported(s.conv.act))
    return unimplemented("activation not expressible in the INT8 graph");
  // The graph reads the quantized copy, always packed NHWC, and its filter is KRSC.
  s.conv.channels_last = true;
  return s;
}

namespace {

struct Int8ConvPacked {
  int device = 0;
  Int8Spec spec;
  InputQuantizeParams quantize;     // the packed copy: float inputs, levels the own kernel cannot read as they are
  DeviceBuffer weights;             // KRSC int8 levels
  DeviceBuffer scale;               // fp32 [M]
  DeviceBuffer bias;                // fp32 [M], corrected for the packed copy's shift (quantize.offset)
  DeviceBuffer level_bias;          // fp32 [M], the layer's own: for levels read as they are (level inputs only)
  std::vector<ConvChoice> choices;  // tuned per batch (tune_conv_int8); empty: the heuristic, or the own kernel
  std::string implementation;
};

class Int8ConvKernel final : public Kernel {
 public:
  explicit Int8ConvKernel(std::shared_ptr<const Int8ConvPacked> p) : p_(std::move(p)) {}

  Status reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) override;
  size_t workspace_bytes() const override { return levels_bytes_ + temp_bytes_ + library_bytes_; }
  Status enqueue(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs,
                 const EnqueueContext& ctx) override;

 private:
  Status prepare_graph(const ConstTensorView& x, const ConstTensorView* r, const TensorView& y, const ConvChoice* c);
  Status run_own(const ConstTensorView& x, const ConstTensorView* r, const TensorView& y, int8_t* packed,
                 cudaStream_t stream) const;
  Status run_graph(const int8_t* packed, const ConstTensorView* r, const TensorView& y, void* temp, void* library,
                   const CudaStream& stream) const;
  Status run_epilogue(const void* temp, const ConstTensorView* r, const TensorView& y, cudaStream_t stream) const;

  std::shared_ptr<const Int8ConvPacked> p_;
  ConvGraphStates direct_states_, temp_states_;
  ConvGraphState* graph_ = nullptr;
  bool own_ = false;  // the own implicit GEMM instead of graph_
  uint8_t own_variant_ = 0;
  bool levels_as_they_are_ = false;    // the own kernel reads X's levels, no packed copy
  bool direct_ = false;                // the graph writes Y itself (else a temp and the epilogue)
  std::vector<int64_t> temp_strides_;  // dense NHWC strides of Y's shape
  size_t levels_bytes_ = 0, temp_bytes_ = 0, library_bytes_ = 0;
};

Status Int8ConvKernel::reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) {
  RETURN_IF_ERROR(check_conv_views(p_->spec.conv, p_->spec.x_dtype, inputs, outputs, "INT8 Conv"));
  const Int8Spec& spec = p_->spec;
  const ConstTensorView& x = inputs[0];
  const TensorView& y = outputs[0];
  const ConstTensorView* r = spec.conv.has_residual ? &inputs[3] : nullptr;
  const ConvChoice* c = choice_for_batch(p_->choices, x.shape[0]);
  const bool tuned_own = c && c->kind == ConvChoiceKind::kInt8Gemm;
  own_ = spec.own_only || (tuned_own && int8_conv_kernel_applies(x.shape[1], spec.conv.out_channels));
  own_variant_ = tuned_own ? c->variant : 0;
  // Levels stored dense NHWC (int8_storage's, as planned) are read as they are.
  levels_as_they_are_ =
      own_ && is_levels(x.dtype) && x.strides == packed_strides(x.shape, true) && alignment_of(x.data) >= 16;
  const std::vector<int64_t> padded = padded_dims(x.shape, spec.conv.pad_h, spec.conv.pad_w);
  levels_bytes_ = levels_as_they_are_ ? 0 : align256(static_cast<size_t>(element_count(padded)));
  temp_bytes_ = library_bytes_ = 0;
  graph_ = nullptr;
  if (own_) return Status::ok();
  return prepare_graph(x, r, y, c);
}

// cuDNN's graph for the packed copy: Y written by the graph where it is dense NHWC (and not
// also the residual), else a dense temp that the epilogue adds the residual to.
Status Int8ConvKernel::prepare_graph(const ConstTensorView& x, const ConstTensorView* r, const TensorView& y,
                                     const ConvChoice* c) {
  const ConvSpec& conv = p_->spec.conv;
  temp_strides_ = packed_strides(y.shape, true);
  direct_ = y.strides == temp_strides_ && (!r || (r->strides == y.strides && r->data != y.data));
  temp_bytes_ = direct_ ? 0 : align256(static_cast<size_t>(y.size()) * element_size(conv.dtype));
  ConvSpec spec = graph_spec(conv);
  if (!direct_) spec.has_residual = false;  // the epilogue adds it
  ASSIGN_OR_RETURN(const cudnnDataType_t float_type, cudnn_data_type(conv.dtype));
  ConvGraphShape shape = direct_shape(padded_dims(x.shape, conv.pad_h, conv.pad_w), y.shape, float_type);
  shape.y_alignment = direct_ ? alignment_of(y.data) : 16;
  shape.r_alignment = direct_ && r ? alignment_of(r->data) : 16;
  shape.fuse_activation = direct_;
  const GraphEngineChoice* preferred = c && c->kind == ConvChoiceKind::kGraph ? &c->engine : nullptr;
  ASSIGN_OR_RETURN(QueryHandle handle, QueryHandle::acquire(p_->device));
  ConvGraphState& state = (direct_ ? direct_states_ : temp_states_).find_or_build(handle.get(), spec, shape, preferred);
  if (!state.plan)
    return unimplemented("cuDNN has no engine for this INT8 convolution (input " + to_string(x.shape) + ", " +
                         std::to_string(spec.out_channels) + " outputs, " + std::to_string(spec.kernel_h) + "x" +
                         std::to_string(spec.kernel_w) + ")");
  graph_ = &state;
  library_bytes_ = state.plan->workspace_bytes();
  return Status::ok();
}

Status Int8ConvKernel::enqueue(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs,
                               const EnqueueContext& ctx) {
  if (graph_ == nullptr && !own_) return internal_error("INT8 Conv enqueued before a successful reshape");
  if (workspace_bytes() > 0 && (ctx.workspace_bytes < workspace_bytes() || ctx.workspace == nullptr))
    return internal_error("INT8 Conv given " + std::to_string(ctx.workspace_bytes) + " bytes of workspace, needs " +
                          std::to_string(workspace_bytes()));
  const CudaStream& stream = cuda_stream(ctx);
  const ConstTensorView& x = inputs[0];
  const ConstTensorView* r = p_->spec.conv.has_residual ? &inputs[3] : nullptr;
  auto* packed = static_cast<int8_t*>(ctx.workspace);
  if (!levels_as_they_are_) {
    ConstDeviceTensor xt;
    if (!to_device_tensor(x, &xt)) return internal_error("INT8 Conv's input is not a 4-D view");
    CUDA_RETURN_IF_ERROR(launch_quantize_pad_nhwc(xt, p_->quantize, packed, stream.get()));
  }
  if (own_) return run_own(x, r, outputs[0], packed, stream.get());
  void* temp = static_cast<char*>(ctx.workspace) + levels_bytes_;
  return run_graph(packed, r, outputs[0], temp, static_cast<char*>(temp) + temp_bytes_, stream);
}

// The own implicit GEMM: over X's levels as they are (with the padding) or the packed copy
// (its padding written out, uint8 grids shifted to int8), into Y through its strides.
Status Int8ConvKernel::run_own(const ConstTensorView& x, const ConstTensorView* r, const TensorView& y, int8_t* packed,
                               cudaStream_t stream) const {
  const Int8Spec& spec = p_->spec;
  Int8ConvArgs a = levels_as_they_are_
                       ? own_conv_args(spec, x.shape, spec.conv.pad_h, spec.conv.pad_w)
                       : own_conv_args(spec, padded_dims(x.shape, spec.conv.pad_h, spec.conv.pad_w), 0, 0);
  a.x = levels_as_they_are_ ? x.data : packed;
  a.x_unsigned = levels_as_they_are_ && x.dtype == DataType::kUint8;
  a.w = static_cast<const int8_t*>(p_->weights.data());
  a.scale = static_cast<const float*>(p_->scale.data());
  a.bias = static_cast<const float*>(levels_as_they_are_ ? p_->level_bias.data() : p_->bias.data());
  a.y = y.data;
  a.residual = r ? r->data : nullptr;
  for (size_t i = 0; i < 4; ++i) {
    a.y_strides[i] = y.strides[i];
    if (r) a.residual_strides[i] = r->strides[i];
  }
  CUDA_RETURN_IF_ERROR(launch_int8_conv(a, own_variant_, stream));
  return Status::ok();
}

Status Int8ConvKernel::run_graph(const int8_t* packed, const ConstTensorView* r, const TensorView& y, void* temp,
                                 void* library, const CudaStream& stream) const {
  GraphPointers p;
  p.x = packed;
  p.w = p_->weights.data();
  p.bias = p_->bias.data();
  p.residual = direct_ && r ? r->data : nullptr;
  p.y = direct_ ? y.data : temp;
  p.workspace = library_bytes_ > 0 ? library : nullptr;
  p.scale = p_->scale.data();
  const ConvGraphShape& shape = graph_->shape;
  if (alignment_of(p.y) < shape.y_alignment || (p.residual && alignment_of(p.residual) < shape.r_alignment))
    return internal_error("INT8 Conv's pointers lost the alignment its reshape planned for");
  ASSIGN_OR_RETURN(cudnnBackendDescriptor_t pack, graph_->packs.find_or_build(graph_->plan->graph(), p));
  RETURN_IF_ERROR(execute_plan(stream.cudnn(), *graph_->plan, pack));
  return direct_ ? Status::ok() : run_epilogue(temp, r, y, stream.get());
}

// y = act(temp + r) through y's and r's strides; temp is dense NHWC.
Status Int8ConvKernel::run_epilogue(const void* temp, const ConstTensorView* r, const TensorView& y,
                                    cudaStream_t stream) const {
  EpilogueArgs a;
  a.dtype = p_->spec.conv.dtype;
  a.t = temp;
  a.y = y.data;
  a.act = p_->spec.conv.act;
  a.channels_last = y.strides[1] == 1;
  a.residual = r ? r->data : nullptr;
  for (int i = 0; i < 4; ++i) {
    a.dims[i] = y.shape[static_cast<size_t>(i)];
    a.t_strides[i] = temp_strides_[static_cast<size_t>(i)];
    a.y_strides[i] = y.strides[static_cast<size_t>(i)];
    if (r) a.r_strides[i] = r->strides[static_cast<size_t>(i)];
  }
  return launch_epilogue(a, stream);
}

class Int8ConvOp final : public PackedOp {
 public:
  explicit Int8ConvOp(std::shared_ptr<const Int8ConvPacked> p) : p_(std::move(p)) {}
  Result<std::unique_ptr<Kernel>> create_kernel() const override {
    return std::unique_ptr<Kernel>(std::make_unique<Int8ConvKernel>(p_));
  }
  std::string_view implementation() const override { return p_->implementation; }

 private:
  std::shared_ptr<const Int8ConvPacked> p_;
};

Result<DeviceBuffer> upload_bytes(const void* data, size_t bytes) {
  ASSIGN_OR_RETURN(DeviceBuffer b, DeviceBuffer::allocate(bytes));
  CUDA_RETURN_IF_ERROR(cudaMemcpy(b.data(), data, bytes, cudaMemcpyHostToDevice));
  return b;
}

// What runs the convolution: the own kernel's tile or cuDNN's engine per tuned batch, joined
// by "/" where batches chose differently.
std::string int8_implementation_name(const Int8Spec& spec, std::span<const ConvChoice> choices) {
  if (choices.empty())
    return spec.own_only ? own_kernel_name(ConvChoiceKind::kInt8Gemm, 0) : "cudnn-graph:int8 conv heuristic";
  std::string joined;
  for (const ConvChoice& c : choices) {
    const std::string name = c.kind == ConvChoiceKind::kInt8Gemm || spec.own_only
                                 ? own_kernel_name(ConvChoiceKind::kInt8Gemm, c.variant)
                                 : "cudnn-graph:int8 conv eng=" + std::to_string(c.engine.engine);
    if (("/" + joined + "/").find("/" + name + "/") == std::string::npos) joined += (joined.empty() ? "" : "/") + name;
  }
  return joined;
}

Result<std::unique_ptr<PackedOp>> pack_int8_impl(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                                  const PackOptions& options) {
  auto p = std::make_shared<Int8ConvPacked>();
  p->device = env.device;
  ASSIGN_OR_RETURN(p->spec, int8_spec(graph, node));
  const ConvSpec& conv = p->spec.conv;
  const Tensor& w = *graph.value(node.inputs[1]).constant;
  std::span<const float> bias;
  if (conv.has_bias) bias = graph.value(node.inputs[2]).constant->floats();
  const float input_scale = node.attrs.get_float("input_scale", 0);
  const std::vector<float> weight_scales = node.attrs.get_floats("weight_scales");
  ASSIGN_OR_RETURN(Int8ConvConstants k,
                   int8_conv_constants(w, bias, input_scale, p->spec.input_qmin, p->spec.input_qmax, weight_scales));
  p->quantize.scale = input_scale;
  p->quantize.qmin = static_cast<float>(p->spec.input_qmin);
  p->quantize.qmax = static_cast<float>(p->spec.input_qmax);
  p->quantize.offset = k.offset;
  p->quantize.pad_h = conv.pad_h;
  p->quantize.pad_w = conv.pad_w;
  ASSIGN_OR_RETURN(p->choices, decode_conv_choices(options.choices));
  p->implementation = int8_implementation_name(p->spec, p->choices);
  // KRSC, as the graph's NHWC filter: the levels reordered like the float filters are.
  Tensor levels(DataType::kFloat32, w.shape());
  std::transform(k.weight_levels.begin(), k.weight_levels.end(), levels.floats().begin(),
                 [](int8_t v) { return static_cast<float>(v); });
  const std::vector<float> krsc = filter_values(levels, true, conv.in_per_group);
  std::vector<int8_t> bytes(krsc.size());
  std::transform(krsc.begin(), krsc.end(), bytes.begin(), [](float v) { return static_cast<int8_t>(v); });
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  ASSIGN_OR_RETURN(p->weights, upload_bytes(bytes.data(), bytes.size()));
  ASSIGN_OR_RETURN(p->scale, upload_bytes(k.scale.data(), k.scale.size() * sizeof(float)));
  ASSIGN_OR_RETURN(p->bias, upload_bytes(k.bias.data(), k.bias.size() * sizeof(float)));
  if (is_levels(p->spec.x_dtype)) {
    // Levels read as they are carry no shift: the bias without its correction (an int8 grid's
    // constants have none).
    ASSIGN_OR_RETURN(Int8ConvConstants plain, int8_conv_constants(w, bias, input_scale, -128, 127, weight_scales));
    ASSIGN_OR_RETURN(p->level_bias, upload_bytes(plain.bias.data(), plain.bias.size() * sizeof(float)));
  }
  return std::unique_ptr<PackedOp>(std::make_unique<Int8ConvOp>(std::move(p)));
}

}  // namespace

bool supports_conv_int8(const ir::Graph& graph, const ir::Node& node) {
  return node.op == ir::OpKind::kConv && node.attrs.has("input_scale") && int8_spec(graph, node).is_ok();
}

Result<std::unique_ptr<PackedOp>> pack_conv_int8(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                                 const PackOptions& options) {
  Result<std::unique_ptr<PackedOp>> op = pack_int8_impl(env, graph, node, options);
  if (!op.is_ok()) return op.status().with_context(ir::describe(graph, node));
  return op;
}

}  // namespace inferd::cuda
