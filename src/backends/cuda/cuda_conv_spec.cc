// What the Conv family derives from a node before it touches the device: validation
// (the reasons supports_conv says no), descriptors, and the tuning blob's encoding.
#include <limits>
#include <map>

#include "backends/cuda/cuda_conv.h"
#include "backends/cuda/cuda_epilogue.h"
#include "core/levels.h"

namespace inferd::cuda {
namespace {

bool fits_int(int64_t v) {
  return v >= 0 && v <= std::numeric_limits<int>::max();
}

bool has_input(const ir::Node& node, size_t i) {
  return node.inputs.size() > i && node.inputs[i] != ir::kNoValue;
}

// Geometry attributes; cuDNN's legacy API pads symmetrically, so top != bottom or
// left != right is unsupported (a Pad node in front would be the way to run those).
Status read_geometry(const ir::Attributes& attrs, ConvSpec& s) {
  const std::vector<int64_t> strides = attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> pads = attrs.get_ints("pads", {0, 0, 0, 0});
  const std::vector<int64_t> dilations = attrs.get_ints("dilations", {1, 1});
  const int64_t group = attrs.get_int("group", 1);
  if (strides.size() != 2 || pads.size() != 4 || dilations.size() != 2)
    return unimplemented("only 2-D convolutions run on CUDA");
  if (pads[0] != pads[2] || pads[1] != pads[3])
    return unimplemented("asymmetric pads (cuDNN pads top/bottom and left/right alike)");
  for (int64_t v : {strides[0], strides[1], dilations[0], dilations[1], group})
    if (v < 1 || !fits_int(v)) return invalid_argument("strides, dilations and group must be positive");
  if (!fits_int(pads[0]) || !fits_int(pads[1])) return invalid_argument("pads must be non-negative");
  s.stride_h = static_cast<int>(strides[0]);
  s.stride_w = static_cast<int>(strides[1]);
  s.pad_h = static_cast<int>(pads[0]);
  s.pad_w = static_cast<int>(pads[1]);
  s.dilation_h = static_cast<int>(dilations[0]);
  s.dilation_w = static_cast<int>(dilations[1]);
  s.group = static_cast<int>(group);
  return Status::ok();
}

// W constant fp32 [M, C/group, kH, kW] matching X's channels; B constant fp32 [M].
Status read_weights(const ir::Graph& graph, const ir::Node& node, const ir::Value& x, ConvSpec& s) {
  const ir::Value& w = graph.value(node.inputs[1]);
  if (!w.is_constant() || w.dtype != DataType::kFloat32 || w.shape.size() != 4)
    return unimplemented("weights must be a constant fp32 4-D tensor");
  for (int64_t d : w.shape)
    if (!fits_int(d) || d == 0) return invalid_argument("weights " + to_string(w.shape) + " are empty or too large");
  if (w.shape[0] % s.group != 0 || x.shape[1] != w.shape[1] * s.group)
    return invalid_argument("input has " + std::to_string(x.shape[1]) + " channels but weights " + to_string(w.shape) +
                            " with group " + std::to_string(s.group) + " expect " +
                            std::to_string(w.shape[1] * s.group));
  s.out_channels = static_cast<int>(w.shape[0]);
  s.in_per_group = static_cast<int>(w.shape[1]);
  s.kernel_h = static_cast<int>(w.shape[2]);
  s.kernel_w = static_cast<int>(w.shape[3]);
  s.has_bias = has_input(node, 2);
  if (s.has_bias) {
    const ir::Value& b = graph.value(node.inputs[2]);
    if (!b.is_constant() || b.dtype != DataType::kFloat32 || element_count(b.shape) != w.shape[0])
      return unimplemented("bias must be a constant fp32 tensor of " + std::to_string(w.shape[0]) + " values");
  }
  return Status::ok();
}

}  // namespace

Result<ConvSpec> conv_spec(const ir::Graph& graph, const ir::Node& node, std::string_view precision, bool int8_io) {
  if (node.inputs.size() < 2 || node.outputs.empty() || !has_input(node, 0) || !has_input(node, 1))
    return invalid_argument("Conv needs inputs X and W and an output");
  const ir::Value& x = graph.value(node.inputs[0]);
  const ir::Value& y = graph.value(node.outputs[0]);
  if (x.shape.size() != 4 || y.shape.size() != 4) return unimplemented("only 4-D (NCHW) convolutions run on CUDA");
  if (node.attrs.has("output_scale") && !int8_io)
    return unimplemented("no rounded float convolution outputs on CUDA (an output_scale attribute)");
  const auto io_type = [&](DataType t) { return is_float_activation(t) || (int8_io && is_levels(t)); };
  const bool one_type = x.dtype == y.dtype || (int8_io && (is_levels(x.dtype) || is_levels(y.dtype)));
  if (!io_type(x.dtype) || !io_type(y.dtype) || !one_type)
    return unimplemented(std::string("activations of type ") + to_string(x.dtype) + " -> " + to_string(y.dtype));
  ConvSpec s;
  RETURN_IF_ERROR(read_geometry(node.attrs, s));
  RETURN_IF_ERROR(read_weights(graph, node, x, s));
  s.has_residual = has_input(node, 3);
  if (s.has_residual) {
    const ir::Value& r = graph.value(node.inputs[3]);
    if (r.is_constant() || r.dtype != y.dtype || r.shape != y.shape)
      return unimplemented("the residual must be an activation shaped and typed like the output");
  }
  ASSIGN_OR_RETURN(ir::Activation act, ir::fused_activation(node.attrs, /*op_owns_alpha_beta=*/false));
  s.act = simplify_activation(act);
  s.dtype = y.dtype;
  s.channels_last = x.layout == ir::Layout::kNHWC;
  s.strict_fp32 = y.dtype == DataType::kFloat32 && precision == "fp32";
  s.output_is_slice = y.alias_of != ir::kNoValue;
  s.depthwise = s.channels_last && s.in_per_group == 1 && s.group > 1 && s.out_channels == s.group;
  s.input_channels = s.in_per_group * s.group;
  s.direct = s.channels_last && s.group == 1 && s.input_channels <= kDirectMaxChannels;
  const bool half_width = s.dtype == DataType::kFloat16 || s.dtype == DataType::kBFloat16;
  if (s.channels_last && half_width && s.group == 1 && s.in_per_group < 8) s.in_per_group = 8;
  return s;
}

bool fusable_activation(const ir::Activation& act) {
  return act.kind == ir::Activation::Kind::kRelu || act.kind == ir::Activation::Kind::kIdentity;
}

cudnnMathType_t default_math(const ConvSpec& spec) {
  if (spec.dtype != DataType::kFloat32) return CUDNN_TENSOR_OP_MATH;
  return spec.strict_fp32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
}

bool math_allowed(const ConvSpec& spec, cudnnMathType_t math) {
  // ALLOW_CONVERSION would run fp32 data through fp16 tensor cores: never asked for.
  if (math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return spec.dtype != DataType::kFloat32;
  if (spec.strict_fp32) return math == CUDNN_FMA_MATH;
  return math == CUDNN_DEFAULT_MATH || math == CUDNN_TENSOR_OP_MATH || math == CUDNN_FMA_MATH;
}

const char* algo_name(cudnnConvolutionFwdAlgo_t algo) {
  switch (algo) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM:
      return "implicit_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM:
      return "implicit_precomp_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM:
      return "gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT:
      return "direct";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT:
      return "fft";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING:
      return "fft_tiling";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD:
      return "winograd";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED:
      return "winograd_nonfused";
    default:
      return "unknown";
  }
}

ConvDescriptors::~ConvDescriptors() {
  if (x) cudnnDestroyTensorDescriptor(x);
  if (y) cudnnDestroyTensorDescriptor(y);
  if (bias) cudnnDestroyTensorDescriptor(bias);
  if (w) cudnnDestroyFilterDescriptor(w);
  if (conv) cudnnDestroyConvolutionDescriptor(conv);
  if (act) cudnnDestroyActivationDescriptor(act);
}

Status init_conv_descriptors(ConvDescriptors& d, const ConvSpec& s) {
  CUDNN_RETURN_IF_ERROR(cudnnCreateTensorDescriptor(&d.x));
  CUDNN_RETURN_IF_ERROR(cudnnCreateTensorDescriptor(&d.y));
  CUDNN_RETURN_IF_ERROR(cudnnCreateTensorDescriptor(&d.bias));
  CUDNN_RETURN_IF_ERROR(cudnnCreateFilterDescriptor(&d.w));
  CUDNN_RETURN_IF_ERROR(cudnnCreateConvolutionDescriptor(&d.conv));
  CUDNN_RETURN_IF_ERROR(cudnnCreateActivationDescriptor(&d.act));
  ASSIGN_OR_RETURN(const cudnnDataType_t type, cudnn_data_type(s.dtype));
  CUDNN_RETURN_IF_ERROR(cudnnSetFilter4dDescriptor(d.w, type, s.channels_last ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW,
                                                   s.out_channels, s.in_per_group, s.kernel_h, s.kernel_w));
  // fp32 accumulation at every precision (cuDNN's "pseudo half/bf16" configurations).
  CUDNN_RETURN_IF_ERROR(cudnnSetConvolution2dDescriptor(d.conv, s.pad_h, s.pad_w, s.stride_h, s.stride_w, s.dilation_h,
                                                        s.dilation_w, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  CUDNN_RETURN_IF_ERROR(cudnnSetConvolutionGroupCount(d.conv, s.group));
  CUDNN_RETURN_IF_ERROR(cudnnSetConvolutionMathType(d.conv, default_math(s)));
  // The fused call takes the bias in the activation type (the epilogue reads the same copy).
  CUDNN_RETURN_IF_ERROR(cudnnSetTensor4dDescriptor(d.bias, CUDNN_TENSOR_NCHW, type, 1, s.out_channels, 1, 1));
  const cudnnActivationMode_t mode =
      s.act.kind == ir::Activation::Kind::kRelu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY;
  CUDNN_RETURN_IF_ERROR(cudnnSetActivationDescriptor(d.act, mode, CUDNN_NOT_PROPAGATE_NAN, 0.0));
  return Status::ok();
}

Status set_tensor_desc(cudnnTensorDescriptor_t desc, DataType dtype, std::span<const int64_t> dims,
                       std::span<const int64_t> strides) {
  if (dims.size() != 4 || strides.size() != 4) return internal_error("set_tensor_desc needs 4 dims and strides");
  for (size_t i = 0; i < 4; ++i)
    if (!fits_int(dims[i]) || !fits_int(strides[i]))
      return unimplemented("tensor dims or strides beyond cuDNN's 32-bit range");
  ASSIGN_OR_RETURN(const cudnnDataType_t type, cudnn_data_type(dtype));
  CUDNN_RETURN_IF_ERROR(cudnnSetTensor4dDescriptorEx(desc, type, static_cast<int>(dims[0]), static_cast<int>(dims[1]),
                                                     static_cast<int>(dims[2]), static_cast<int>(dims[3]),
                                                     static_cast<int>(strides[0]), static_cast<int>(strides[1]),
                                                     static_cast<int>(strides[2]), static_cast<int>(strides[3])));
  return Status::ok();
}

std::vector<int64_t> packed_strides(std::span<const int64_t> d, bool channels_last) {
  if (channels_last) return {d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]};
  return {d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
}

Result<QueryHandle> QueryHandle::acquire(int device) {
  static std::mutex mutex;
  static std::map<int, cudnnHandle_t> handles;  // deliberately never destroyed (see header)
  std::unique_lock<std::mutex> lock(mutex);
  cudnnHandle_t& handle = handles[device];
  if (!handle) {
    // cudnnCreate binds the handle to the current device: switch to `device` for it only.
    int previous = 0;
    CUDA_RETURN_IF_ERROR(cudaGetDevice(&previous));
    CUDA_RETURN_IF_ERROR(cudaSetDevice(device));
    const cudnnStatus_t created = cudnnCreate(&handle);
    CUDA_RETURN_IF_ERROR(cudaSetDevice(previous));
    if (created != CUDNN_STATUS_SUCCESS) {
      handle = nullptr;
      return cudnn_status(created, "cudnnCreate");
    }
  }
  return QueryHandle(std::move(lock), handle);
}

// ---- blob -------------------------------------------------------------------------------

namespace {
constexpr uint8_t kConvBlobVersion = 2;
constexpr size_t kEntryHeaderBytes = 16;
constexpr size_t kKnobBytes = 12;

void put_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t get_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

void encode_entry(std::vector<uint8_t>& out, const ConvChoice& c) {
  const bool graph = c.kind == ConvChoiceKind::kGraph;
  put_le(out, static_cast<uint32_t>(c.batch), 4);
  put_le(out, static_cast<uint8_t>(c.kind), 1);
  const bool legacy = c.kind == ConvChoiceKind::kLegacy;
  put_le(out, graph ? c.engine.knobs.size() : legacy ? static_cast<uint64_t>(c.algo) : c.variant, 1);
  put_le(out, legacy ? static_cast<uint64_t>(c.math) : 0, 1);
  put_le(out, 0, 1);
  put_le(out, c.workspace, 8);
  if (!graph) return;
  put_le(out, static_cast<uint64_t>(c.engine.engine), 8);
  for (const GraphEngineChoice::Knob& k : c.engine.knobs) {
    put_le(out, k.type, 4);
    put_le(out, static_cast<uint64_t>(k.value), 8);
  }
}

// Reads the entry at `pos` (advanced past it), or says what is wrong with it.
Result<ConvChoice> decode_entry(std::span<const uint8_t> blob, size_t& pos, uint8_t version) {
  const auto bad = [](const std::string& why) {
    return data_loss("malformed cuDNN tuning choices in the plan: " + why);
  };
  if (blob.size() - pos < kEntryHeaderBytes) return bad("an entry header is cut short");
  const uint8_t* p = blob.data() + pos;
  pos += kEntryHeaderBytes;
  ConvChoice c;
  c.batch = static_cast<int32_t>(get_le(p, 4));
  c.workspace = get_le(p + 8, 8);
  if (p[7] != 0) return bad("a reserved byte is not zero");
  if (p[4] == static_cast<uint8_t>(ConvChoiceKind::kLegacy)) {
    if (p[5] >= CUDNN_CONVOLUTION_FWD_ALGO_COUNT || p[6] > CUDNN_FMA_MATH)
      return bad("a legacy entry names an unknown algorithm or math type");
    c.algo = static_cast<cudnnConvolutionFwdAlgo_t>(p[5]);
    c.math = static_cast<cudnnMathType_t>(p[6]);
    return c;
  }
  if (version >= 2 && (p[4] == static_cast<uint8_t>(ConvChoiceKind::kDepthwise) ||
                       p[4] == static_cast<uint8_t>(ConvChoiceKind::kDirect) ||
                       p[4] == static_cast<uint8_t>(ConvChoiceKind::kInt8Gemm))) {
    c.kind = static_cast<ConvChoiceKind>(p[4]);
    if (p[6] != 0) return bad("an own-kernel entry has a non-zero second parameter");
    if (p[5] > max_own_variant(c.kind))
      return bad("an own-kernel entry names unknown variant " + std::to_string(p[5]) + " (rebuild the plan)");
    c.variant = p[5];
    return c;
  }
  if (version < 2 || p[4] != static_cast<uint8_t>(ConvChoiceKind::kGraph))
    return bad("entry kind " + std::to_string(p[4]) + " is unknown");
  const size_t knobs = p[5];
  if (knobs >= CUDNN_KNOB_TYPE_COUNTS || p[6] != 0) return bad("a graph entry announces too many knobs");
  if (blob.size() - pos < 8 + knobs * kKnobBytes) return bad("a graph entry is cut short");
  c.kind = ConvChoiceKind::kGraph;
  c.engine.engine = static_cast<int64_t>(get_le(blob.data() + pos, 8));
  pos += 8;
  if (c.engine.engine < 0) return bad("a graph entry has a negative engine index");
  for (size_t i = 0; i < knobs; ++i, pos += kKnobBytes) {
    GraphEngineChoice::Knob k;
    k.type = static_cast<uint32_t>(get_le(blob.data() + pos, 4));
    k.value = static_cast<int64_t>(get_le(blob.data() + pos + 4, 8));
    if (k.type >= CUDNN_KNOB_TYPE_COUNTS) return bad("a graph entry names unknown knob type " + std::to_string(k.type));
    c.engine.knobs.push_back(k);
  }
  return c;
}
}  // namespace

std::vector<uint8_t> encode_conv_choices(std::span<const ConvChoice> choices) {
  std::vector<uint8_t> out{kConvBlobVersion, static_cast<uint8_t>(choices.size())};
  for (const ConvChoice& c : choices) encode_entry(out, c);
  return out;
}

Result<std::vector<ConvChoice>> decode_conv_choices(std::span<const uint8_t> blob) {
  std::vector<ConvChoice> choices;
  if (blob.empty()) return choices;
  const auto bad = [](const std::string& why) {
    return data_loss("malformed cuDNN tuning choices in the plan: " + why);
  };
  if (blob[0] != 1 && blob[0] != kConvBlobVersion)
    return bad("version " + std::to_string(blob[0]) + ", expected 1 or 2 (rebuild the plan)");
  if (blob.size() < 2) return bad("no entry count");
  size_t pos = 2;
  for (size_t i = 0; i < blob[1]; ++i) {
    Result<ConvChoice> c = decode_entry(blob, pos, blob[0]);
    if (!c.is_ok()) return c.status().with_context("entry " + std::to_string(i));
    if (c.value().batch <= 0 || (!choices.empty() && c.value().batch <= choices.back().batch))
      return bad("batches must be positive and ascending (entry " + std::to_string(i) + ")");
    choices.push_back(std::move(c).value());
  }
  if (pos != blob.size()) return bad(std::to_string(blob.size() - pos) + " bytes follow the last entry");
  return choices;
}

const ConvChoice* choice_for_batch(std::span<const ConvChoice> choices, int64_t batch) {
  for (const ConvChoice& c : choices)
    if (c.batch >= batch) return &c;
  return choices.empty() ? nullptr : &choices.back();
}

}  // namespace inferd::cuda
