// Internals shared by the Conv family's files (cuda_conv.cc: supports/pack/kernel,
// cuda_conv_tune.cc: timing, cuda_conv_spec.cc: what both derive from the node):
// the validated convolution geometry, cuDNN descriptors, and the tuning blob.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_kernels.h"
#include "ir/activation.h"
#include "ir/graph.h"

namespace inferd::cuda {

// The most input channels the own direct kernel is timed for (its work per output grows
// with them, on the CUDA cores).
inline constexpr int kDirectMaxChannels = 32;

// Workspace cuDNN may use per convolution (tuning and the heuristic skip hungrier algos).
inline constexpr size_t kConvWorkspaceCap = size_t{256} << 20;

// A Conv node as the CUDA backend runs it; built only for nodes it supports.
struct ConvSpec {
  int stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1, group = 1;
  int out_channels = 0, in_per_group = 0, kernel_h = 0, kernel_w = 0;  // W is [M, C/group, kH, kW]
  // X's channels in the graph. An fp16/bf16 channels-last X of fewer than 8 channels (an
  // RGB image) is run as 8: in_per_group says 8, the kernel stages X with zero channels
  // added and the filter is packed with zeros for them. cuDNN's tensor-core kernels want
  // channels in multiples of 8; at C = 3, ResNet-50's conv1 ran at ~40 TFLOP/s and took
  // 17 % of the network's batch-256 time on the H200 (2026-12-03 profile).
  int input_channels = 0;
  DataType dtype = DataType::kFloat32;  // of X, R and Y
  bool channels_last = true;            // X is NHWC in the graph: the filter is packed KRSC
  bool strict_fp32 = false;             // precision "fp32" on fp32 data: no TF32
  bool has_bias = false, has_residual = false;
  bool output_is_slice = false;  // Y aliases a channel slice of a concat buffer
  // One filter per channel (group = channels = outputs) on channels-last data: the own
  // depthwise kernel is a candidate besides cuDNN.
  bool depthwise = false;
  // Group 1 over at most kDirectMaxChannels input channels, channels-last: the own direct
  // kernel is a candidate besides cuDNN.
  bool direct = false;
  ir::Activation act;  // Clip(0, inf) normalised to Relu
};

// The spec of `node`, or why the backend cannot run it (asymmetric pads, rank, dtype...).
// An INT8 Conv (input_scale) gets its geometry here too; cuda_conv_int8.cc checks the rest.
// `int8_io`: for INT8 convolutions (cuda_conv_int8.cc), whose input and output may hold
// int8 / uint8 levels (int8_storage) and whose output may be rounded (output_scale); the
// spec's dtype is the output's.
Result<ConvSpec> conv_spec(const ir::Graph& graph, const ir::Node& node, std::string_view precision,
                           bool int8_io = false);

// Whether X is padded with zero channels before the library sees it (see input_channels).
inline bool pads_input_channels(const ConvSpec& s) {
  return s.in_per_group * s.group != s.input_channels;
}
// X's logical NCHW dims as the library sees them (channels padded or not).
inline std::vector<int64_t> library_input_dims(const ConvSpec& s, std::vector<int64_t> x_dims) {
  x_dims[1] = int64_t{s.in_per_group} * s.group;
  return x_dims;
}

// The views a Conv kernel of `s` runs on, checked at reshape: X a 4-D device view of
// `x_dtype` (the spec's dtype but for an INT8 Conv reading levels), Y and the residual (where
// the spec has one, shaped like Y) of the spec's dtype. The errors name `kernel` ("Conv",
// "INT8 Conv").
Status check_conv_views(const ConvSpec& s, DataType x_dtype, std::span<const ConstTensorView> inputs,
                        std::span<const TensorView> outputs, const std::string& kernel);

// cudnnConvolutionBiasActivationForward applies only ReLU and identity.
bool fusable_activation(const ir::Activation& act);
// Math type per precision: tensor ops for fp16/bf16, FMA for strict fp32, default (TF32
// allowed) for fp32 storage otherwise; a tuned math type is used only if allowed.
cudnnMathType_t default_math(const ConvSpec& spec);
bool math_allowed(const ConvSpec& spec, cudnnMathType_t math);
const char* algo_name(cudnnConvolutionFwdAlgo_t algo);

// Owns the descriptors of one convolution (move-less: kernels hold it by value).
struct ConvDescriptors {
  ConvDescriptors() = default;
  ConvDescriptors(const ConvDescriptors&) = delete;
  ConvDescriptors& operator=(const ConvDescriptors&) = delete;
  ~ConvDescriptors();

  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnActivationDescriptor_t act = nullptr;
};
// Creates them all and sets the shape-independent ones (filter, convolution with the
// default math, bias [1,M,1,1], activation when fusable).
Status init_conv_descriptors(ConvDescriptors& d, const ConvSpec& spec);
// A 4-D tensor descriptor from logical NCHW dims and element strides.
Status set_tensor_desc(cudnnTensorDescriptor_t desc, DataType dtype, std::span<const int64_t> dims,
                       std::span<const int64_t> strides);
// Strides of a packed NHWC (channels_last) or NCHW tensor of logical dims.
std::vector<int64_t> packed_strides(std::span<const int64_t> dims, bool channels_last);

// A cuDNN handle of `device` for calls that launch nothing or run at build time
// (workspace sizes and heuristics at reshape, where no stream is at hand; timing in
// tune). One per device for the process (never destroyed: kernels of any engine may
// query it until exit); handles are not thread-safe, so holding one holds its lock.
class QueryHandle {
 public:
  static Result<QueryHandle> acquire(int device);
  cudnnHandle_t get() const { return handle_; }

 private:
  QueryHandle(std::unique_lock<std::mutex> lock, cudnnHandle_t handle) : lock_(std::move(lock)), handle_(handle) {}
  std::unique_lock<std::mutex> lock_;
  cudnnHandle_t handle_ = nullptr;
};

// ---- the own kernels (cuda_conv_own.cc) ---------------------------------------------------
enum class ConvChoiceKind : uint8_t;
// Whether the own kernel of `kind` (kDepthwise, kDirect) can run this convolution.
bool own_kernel_applies(const ConvSpec& s, ConvChoiceKind kind);
// The variants of the own kernel of `kind` worth timing for `s` (ConvChoice::variant):
// {0} but for depthwise 3x3 windows of stride 1 or 2 on 16-bit data, {0, 1, 2}.
std::vector<uint8_t> own_kernel_variants(const ConvSpec& s, ConvChoiceKind kind);
// The most variant number of `kind` (what a plan may name).
uint8_t max_own_variant(ConvChoiceKind kind);
// "cuda:depthwise_conv", "cuda:depthwise_conv_strip2", "cuda:direct_conv", ...
std::string own_kernel_name(ConvChoiceKind kind, uint8_t variant);
// Enqueues it: x, y and the residual channels-last, the filter in the kernel's layout
// (cuda_weights.h), the bias [M] or null, all in the spec's dtype.
Status launch_own_conv(ConvChoiceKind kind, uint8_t variant, const ConvSpec& s, const void* filter, const void* bias,
                       const ConstDeviceTensor& x, const ConstDeviceTensor* residual, const DeviceTensor& y,
                       cudaStream_t stream);

// ---- tuning blob ------------------------------------------------------------------------
// Version 2 (what tune writes): byte 0 = 2, byte 1 = entry count, then per entry a 16-byte
// header, little-endian:
//   int32 batch, uint8 kind (0 legacy algo, 1 graph engine), uint8 a, uint8 b, uint8 zero,
//   uint64 workspace bytes (what the choice needed at that batch, informational)
// kind 0: a = cudnnConvolutionFwdAlgo_t, b = cudnnMathType_t; nothing follows.
// kind 2: the own depthwise kernel (kernels_nhwc.h); a = variant (0 one output pixel per
//         thread, 1 and 2 strips of 2 and 4 output columns: DepthwiseConvParams), b = 0;
//         nothing follows.
// kind 3: the own direct kernel for few input channels (kernels_nhwc.h); a = b = 0.
// kind 1: a = knob count n (< CUDNN_KNOB_TYPE_COUNTS), b = 0; then int64 engine global index
//         (CUDNN_ATTR_ENGINE_GLOBAL_INDEX) and n knobs of uint32 cudnnBackendKnobType_t +
//         int64 value (CUDNN_ATTR_ENGINECFG_KNOB_CHOICES), 12 bytes each.
// Entries ascend by batch. Version 1 (legacy entries only, the 16-byte header with kind
// byte 0, a = algo, b = math) is still read, so plans built before the graph API load.
// kInt8Gemm: the own INT8 implicit GEMM (kernels_int8_conv.h), INT8 convolutions only.
enum class ConvChoiceKind : uint8_t { kLegacy = 0, kGraph = 1, kDepthwise = 2, kDirect = 3, kInt8Gemm = 4 };

// A cuDNN graph-API engine configuration that can be rebuilt for a shape without timing.
struct GraphEngineChoice {
  struct Knob {
    uint32_t type = 0;  // cudnnBackendKnobType_t
    int64_t value = 0;
    bool operator==(const Knob&) const = default;
  };
  int64_t engine = -1;  // global index
  std::vector<Knob> knobs;
  bool operator==(const GraphEngineChoice&) const = default;
};

struct ConvChoice {
  int32_t batch = 0;
  ConvChoiceKind kind = ConvChoiceKind::kLegacy;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;  // kLegacy
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;                                  // kLegacy
  GraphEngineChoice engine;                                                   // kGraph
  uint8_t variant = 0;                                                        // kDepthwise, kInt8Gemm
  uint64_t workspace = 0;
};
std::vector<uint8_t> encode_conv_choices(std::span<const ConvChoice> choices);
Result<std::vector<ConvChoice>> decode_conv_choices(std::span<const uint8_t> blob);
// The entry of the smallest tuned batch >= batch, else the largest; null when empty.
const ConvChoice* choice_for_batch(std::span<const ConvChoice> choices, int64_t batch);

}  // namespace inferd::cuda
