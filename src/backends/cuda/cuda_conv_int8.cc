// Conv with an INT8 input (quantized_layer_folding's attributes: input_scale, input_qmin,
// input_qmax, weight_scales) through cuDNN's INT8 engines, for float activations in and out:
//   1. the input is rounded onto its grid and stored as int8 levels, packed NHWC with the
//      convolution's padding written out as the level of 0 (kernels_quantize.h): a uint8
//      grid (a ReLU's output, 0..255) is stored shifted by -128, as cuDNN has no engine for
//      uint8 input on sm_90 (docs/benchmarks.md, "Quantized convolutions in cuDNN");
//   2. one operation graph (cuda_conv_graph.h, ConvGraphTypes): conv(X int8, W int8) in
//      int32, times scale[k] = input_scale x weight_scale[k], plus the bias with the shift's
//      correction folded in (backends/api/int8_conv_constants.h), plus the residual, then the
//      activation, written as the output's float dtype.
// The numerics are the reference kernel's for the folded Conv up to float rounding of the
// int32 sums' scaling (the sums themselves are exact).
//
// What it takes (supports_conv_int8): group 1, input and output channels multiples of 8,
// an activation the graph expresses, no output rounding (output_scale); any layout and
// strides (the quantize kernel reads X through its strides; see Int8ConvKernel for Y).
// cuDNN may still have no engine for a shape: reshape() then fails kUnimplemented, which
// the build's clock reads as "keep this layer float". The engine per batch is timed at
// build time (tune_conv_int8, the float convolutions' blob format) and taken at reshape
// while it still finalizes, else cuDNN's heuristic.
//
// Workspace: [padded int8 X | dense NHWC temp (temp path only) | cuDNN workspace], 256-aligned.
#include <algorithm>
#include <memory>
#include <string>

#include "backends/api/int8_conv_constants.h"
#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_conv_graph.h"
#include "backends/cuda/cuda_conv_staging.h"
#include "backends/cuda/cuda_epilogue.h"
#include "backends/cuda/cuda_ops.h"
#include "backends/cuda/cuda_weights.h"
#include "backends/cuda/kernels_quantize.h"

namespace inferd::cuda {
namespace {

struct Int8ConvPacked {
  int device = 0;
  ConvSpec spec;  // as the graph runs it: no padding (written out), always a bias (the corrected one)
  int pad_h = 0, pad_w = 0;
  InputQuantizeParams quantize;
  DeviceBuffer weights;  // KRSC int8 levels
  DeviceBuffer scale;    // fp32 [M]
  DeviceBuffer bias;     // fp32 [M]
  std::vector<ConvChoice> choices;  // graph engines tuned per batch (tune_conv_int8); empty: the heuristic
  std::string implementation;
};

// The graph's spec: the padding written out by the quantize kernel, always a bias (the
// corrected one), and not fp32 for the engine filter, whose fp32 rules (no engine that
// down-converts fp32 inputs, no tensor cores for strict fp32) are about float inputs.
ConvSpec graph_spec(ConvSpec s) {
  s.pad_h = s.pad_w = 0;
  s.has_bias = true;
  s.dtype = DataType::kFloat16;
  s.strict_fp32 = false;
  return s;
}

// What the graph reads and writes for a dense NHWC output: int8 X and W, int32 compute,
// fp32 scale and bias, the output's float type for Y and R.
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

Result<ConvSpec> int8_spec(const ir::Graph& graph, const ir::Node& node) {
  ASSIGN_OR_RETURN(ConvSpec s, conv_spec(graph, node, "fp16"));
  const ir::Value& x = graph.value(node.inputs[0]);
  if (s.group != 1) return unimplemented("no grouped INT8 convolutions on CUDA");
  if (x.shape[1] % 8 != 0 || s.out_channels % 8 != 0)
    return unimplemented("INT8 convolutions need input and output channels in multiples of 8");
  if (!graph_activation_supported(s.act)) return unimplemented("activation not expressible in the INT8 graph");
  const int64_t qmin = node.attrs.get_int("input_qmin", -128), qmax = node.attrs.get_int("input_qmax", 127);
  if (!(qmin == 0 && qmax == 255) && !((qmin == -128 || qmin == -127) && qmax == 127))
    return unimplemented("an INT8 input grid other than int8 or uint8");
  if (node.attrs.get_int("input_zero_point", 0) != 0) return unimplemented("an INT8 input with a zero point");
  // The graph reads the quantized copy, always packed NHWC, and its filter is KRSC.
  s.channels_last = true;
  return s;
}

class Int8ConvKernel final : public Kernel {
 public:
  explicit Int8ConvKernel(std::shared_ptr<const Int8ConvPacked> p) : p_(std::move(p)) {}

  Status reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) override;
  size_t workspace_bytes() const override { return levels_bytes_ + temp_bytes_ + library_bytes_; }
  Status enqueue(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs,
                 const EnqueueContext& ctx) override;

 private:
  Status run_epilogue(const void* temp, const ConstTensorView* r, const TensorView& y, cudaStream_t stream) const;

  std::shared_ptr<const Int8ConvPacked> p_;
  ConvGraphStates direct_states_, temp_states_;
  ConvGraphState* graph_ = nullptr;
  bool direct_ = false;
  std::vector<int64_t> temp_strides_;  // dense NHWC strides of Y's shape
  size_t levels_bytes_ = 0, temp_bytes_ = 0, library_bytes_ = 0;
};

Status Int8ConvKernel::reshape(std::span<const ConstTensorView> inputs, std::span<const TensorView> outputs) {
  RETURN_IF_ERROR(check_conv_views(p_->spec, inputs, outputs, "INT8 Conv"));
  const ConstTensorView& x = inputs[0];
  const TensorView& y = outputs[0];
  const ConstTensorView* r = p_->spec.has_residual ? &inputs[3] : nullptr;
  const std::vector<int64_t> padded = padded_dims(x.shape, p_->pad_h, p_->pad_w);
  levels_bytes_ = align256(static_cast<size_t>(element_count(padded)));
  temp_strides_ = packed_strides(y.shape, true);
  direct_ = y.strides == temp_strides_ && (!r || (r->strides == y.strides && r->data != y.data));
  temp_bytes_ = direct_ ? 0 : align256(static_cast<size_t>(y.size()) * element_size(p_->spec.dtype));
  ConvSpec spec = graph_spec(p_->spec);
  if (!direct_) spec.has_residual = false;  // the epilogue adds it
  ASSIGN_OR_RETURN(const cudnnDataType_t float_type, cudnn_data_type(p_->spec.dtype));
  ConvGraphShape shape = direct_shape(padded, y.shape, float_type);
  shape.y_alignment = direct_ ? alignment_of(y.data) : 16;
  shape.r_alignment = direct_ && r ? alignment_of(r->data) : 16;
  shape.fuse_activation = direct_;
  const ConvChoice* c = choice_for_batch(p_->choices, x.shape[0]);
  const GraphEngineChoice* preferred = c && c->kind == ConvChoiceKind::kGraph ? &c->engine : nullptr;
  ASSIGN_OR_RETURN(QueryHandle handle, QueryHandle::acquire(p_->device));
  ConvGraphState& state =
      (direct_ ? direct_states_ : temp_states_).find_or_build(handle.get(), spec, shape, preferred);
  graph_ = nullptr;
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
  if (graph_ == nullptr) return internal_error("INT8 Conv enqueued before a successful reshape");
  if (ctx.workspace_bytes < workspace_bytes() || ctx.workspace == nullptr)
    return internal_error("INT8 Conv given " + std::to_string(ctx.workspace_bytes) + " bytes of workspace, needs " +
                          std::to_string(workspace_bytes()));
  const CudaStream& stream = cuda_stream(ctx);
  const ConstTensorView& x = inputs[0];
  const TensorView& y = outputs[0];
  const ConstTensorView* r = p_->spec.has_residual ? &inputs[3] : nullptr;
  auto* levels = static_cast<int8_t*>(ctx.workspace);
  void* temp = static_cast<char*>(ctx.workspace) + levels_bytes_;
  void* library = static_cast<char*>(ctx.workspace) + levels_bytes_ + temp_bytes_;
  ConstDeviceTensor xt;
  if (!to_device_tensor(x, &xt)) return internal_error("INT8 Conv's input is not a 4-D view");
  CUDA_RETURN_IF_ERROR(launch_quantize_pad_nhwc(xt, p_->quantize, levels, stream.get()));
  GraphPointers p;
  p.x = levels;
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
  a.dtype = p_->spec.dtype;
  a.t = temp;
  a.y = y.data;
  a.act = p_->spec.act;
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

Result<std::unique_ptr<PackedOp>> pack_int8_impl(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                                  const PackOptions& options) {
  auto p = std::make_shared<Int8ConvPacked>();
  p->device = env.device;
  ASSIGN_OR_RETURN(p->spec, int8_spec(graph, node));
  const Tensor& w = *graph.value(node.inputs[1]).constant;
  std::span<const float> bias;
  if (p->spec.has_bias) bias = graph.value(node.inputs[2]).constant->floats();
  const float input_scale = node.attrs.get_float("input_scale", 0);
  const int64_t qmin = node.attrs.get_int("input_qmin", -128), qmax = node.attrs.get_int("input_qmax", 127);
  const std::vector<float> weight_scales = node.attrs.get_floats("weight_scales");
  ASSIGN_OR_RETURN(Int8ConvConstants k, int8_conv_constants(w, bias, input_scale, qmin, qmax, weight_scales));
  p->quantize.scale = input_scale;
  p->quantize.qmin = static_cast<float>(qmin);
  p->quantize.qmax = static_cast<float>(qmax);
  p->quantize.offset = k.offset;
  p->quantize.pad_h = p->pad_h = p->spec.pad_h;
  p->quantize.pad_w = p->pad_w = p->spec.pad_w;
  p->spec.pad_h = p->spec.pad_w = 0;  // written out by the quantize kernel
  p->spec.has_bias = true;             // the corrected bias, zeros and the shift's correction at least
  ASSIGN_OR_RETURN(p->choices, decode_conv_choices(options.choices));
  p->implementation = p->choices.empty() ? "cudnn-graph:int8 conv heuristic"
                                         : "cudnn-graph:int8 conv eng=" + std::to_string(p->choices.front().engine.engine);
  // KRSC, as the graph's NHWC filter: the levels reordered like the float filters are.
  Tensor levels(DataType::kFloat32, w.shape());
  std::transform(k.weight_levels.begin(), k.weight_levels.end(), levels.floats().begin(),
                 [](int8_t v) { return static_cast<float>(v); });
  const std::vector<float> krsc = filter_values(levels, true, p->spec.in_per_group);
  std::vector<int8_t> bytes(krsc.size());
  std::transform(krsc.begin(), krsc.end(), bytes.begin(), [](float v) { return static_cast<int8_t>(v); });
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  ASSIGN_OR_RETURN(p->weights, upload_bytes(bytes.data(), bytes.size()));
  ASSIGN_OR_RETURN(p->scale, upload_bytes(k.scale.data(), k.scale.size() * sizeof(float)));
  ASSIGN_OR_RETURN(p->bias, upload_bytes(k.bias.data(), k.bias.size() * sizeof(float)));
  return std::unique_ptr<PackedOp>(std::make_unique<Int8ConvOp>(std::move(p)));
}

// Build time, per batch the plan asks for: the fastest of cuDNN's first heuristic engines
// for the INT8 graph as the kernel builds it for a dense NHWC output, run on scratch
// buffers. A batch where none runs gets no entry (reshape takes the heuristic then, or
// says there is no engine).
Result<std::vector<uint8_t>> tune_int8_impl(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const TuneOptions& options) {
  ASSIGN_OR_RETURN(const ConvSpec s, int8_spec(graph, node));
  const std::vector<int> batches = tuned_batches(options.batches);
  if (batches.empty()) return std::vector<uint8_t>{};
  CUDA_RETURN_IF_ERROR(cudaSetDevice(env.device));
  const ConvSpec spec = graph_spec(s);
  const ir::Value& xv = graph.value(node.inputs[0]);
  const ir::Value& yv = graph.value(node.outputs[0]);
  ASSIGN_OR_RETURN(const cudnnDataType_t float_type, cudnn_data_type(yv.dtype));
  const auto at = [](Shape shape, int batch) {
    shape[0] = batch;
    return shape;
  };
  const int max_batch = batches.back();
  const std::vector<int64_t> padded_max = padded_dims(at(xv.shape, max_batch), s.pad_h, s.pad_w);
  const size_t y_bytes = static_cast<size_t>(element_count(at(yv.shape, max_batch))) * element_size(yv.dtype);
  ASSIGN_OR_RETURN(DeviceBuffer levels, allocate_pattern(static_cast<size_t>(element_count(padded_max))));
  ASSIGN_OR_RETURN(DeviceBuffer w, allocate_pattern(static_cast<size_t>(s.out_channels) * s.in_per_group *
                                                    s.kernel_h * s.kernel_w));
  ASSIGN_OR_RETURN(DeviceBuffer scale, allocate_pattern(static_cast<size_t>(s.out_channels) * sizeof(float)));
  ASSIGN_OR_RETURN(DeviceBuffer bias, allocate_pattern(static_cast<size_t>(s.out_channels) * sizeof(float)));
  ASSIGN_OR_RETURN(DeviceBuffer y, allocate_pattern(y_bytes));
  DeviceBuffer residual;
  if (s.has_residual) {
    ASSIGN_OR_RETURN(residual, allocate_pattern(y_bytes));
  }
  const DeviceBuffer workspace = allocate_largest(kConvWorkspaceCap);
  ASSIGN_OR_RETURN(QueryHandle handle, QueryHandle::acquire(env.device));
  std::vector<ConvChoice> choices;
  for (int batch : batches) {
    const ConvGraphShape shape =
        direct_shape(padded_dims(at(xv.shape, batch), s.pad_h, s.pad_w), at(yv.shape, batch), float_type);
    Result<std::shared_ptr<const ConvOpGraph>> g = ConvOpGraph::build(handle.get(), spec, shape);
    if (!g.is_ok()) continue;
    GraphPointers p{levels.data(), w.data(), bias.data(), residual.data(), y.data(), nullptr, scale.data()};
    const TimedEngine fastest = fastest_graph_engine(handle.get(), g.value(), spec, p, workspace);
    if (fastest.ms < 0) continue;
    ConvChoice c;
    c.batch = batch;
    c.kind = ConvChoiceKind::kGraph;
    c.engine = fastest.engine;
    c.workspace = fastest.workspace;
    choices.push_back(c);
  }
  CUDA_RETURN_IF_ERROR(cudaDeviceSynchronize());  // the timed runs used the scratch: finish before freeing
  return encode_conv_choices(choices);
}

}  // namespace

Result<std::vector<uint8_t>> tune_conv_int8(const CudaOpEnv& env, const ir::Graph& graph, const ir::Node& node,
                                            const TuneOptions& options) {
  Result<std::vector<uint8_t>> blob = tune_int8_impl(env, graph, node, options);
  if (!blob.is_ok()) return blob.status().with_context(ir::describe(graph, node));
  return blob;
}

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
