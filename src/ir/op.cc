#include "ir/op.h"

#include <array>
#include <utility>

namespace inferd::ir {
namespace {
// Canonical attributes (all set by the importer, defaults filled in):
//   Conv:        strides[2], pads[4] (top,left,bottom,right), dilations[2], group;
//                inputs X, W, [B], [R]; output = act(conv(X,W) + B + R) where the
//                fused activation is attr "activation" (an OpKind name, absent = none)
//                with "activation_alpha"/"activation_beta" (LeakyRelu, HardSigmoid) and
//                "min"/"max" (Clip): prefixed because Gemm's own alpha/beta exist.
//   ConvTranspose: strides[2], pads[4] (top,left,bottom,right: cropped off the full
//                output), dilations[2], group, output_padding[2] (rows/columns added at the
//                bottom/right); inputs X [N,Cin,H,W], W [Cin, Cout/group, kH, kW], [B] [Cout];
//                output H = stride*(H-1) + output_padding + (kH-1)*dilation + 1 - top - bottom;
//                fused activation as Conv (no residual input).
//   Gemm:        alpha, beta, transA, transB; inputs A, B, [C]; fused activation as Conv.
//   MaxPool/AveragePool: kernel_shape[2], strides[2], pads[4], ceil_mode, count_include_pad.
//   LRN:         size, alpha, beta, bias, region ("across_channels", the default and ONNX's,
//                or "within_channel": Caffe's size x size spatial window per channel,
//                y = x / (bias + alpha / size^2 * sum of x^2, zero padded)^beta, odd size).
//   BatchNormalization: epsilon.
//   Clip:        min, max.  LeakyRelu: alpha.   HardSigmoid: alpha, beta.
//   Concat/Flatten/Softmax/Gather: axis.  Transpose: perm.  Squeeze/Unsqueeze: axes.
//   Reshape:     input 1 is a constant int64 shape (allowzero attr honoured).
//   Pad:         pads[2*rank], value (constant mode only).
//   Slice:       axis, start, end.              Softmax (opset < 13): legacy_2d = 1.
//   QuantizeLinear / DequantizeLinear: scales (floats: 1 = per tensor, else per `axis`),
//                zero_points (ints, as many), axis, dtype (the quantized side's DataType as
//                an int: kInt8 or kUint8); input X only. The passes fold every pair
//                (qdq_folding) before a backend sees them.
//   FakeQuantize: scale, zero_point, qmin, qmax: y = (clamp(round_even(x / scale) +
//                zero_point, qmin, qmax) - zero_point) * scale, in float. With format
//                "e4m3" (default "int"): y = e4m3(x / scale) * scale, x / scale rounded to
//                FP8 E4M3 with saturation at +-448 (core/fp8.h); no zero point, qmin, qmax.
constexpr std::array<std::pair<OpKind, std::string_view>, 36> kNames{{
    {OpKind::kConv, "Conv"},
    {OpKind::kConvTranspose, "ConvTranspose"},
    {OpKind::kRelu, "Relu"},
    {OpKind::kClip, "Clip"},
    {OpKind::kLeakyRelu, "LeakyRelu"},
    {OpKind::kSigmoid, "Sigmoid"},
    {OpKind::kTanh, "Tanh"},
    {OpKind::kHardSigmoid, "HardSigmoid"},
    {OpKind::kHardSwish, "HardSwish"},
    {OpKind::kMaxPool, "MaxPool"},
    {OpKind::kAveragePool, "AveragePool"},
    {OpKind::kGlobalAveragePool, "GlobalAveragePool"},
    {OpKind::kLRN, "LRN"},
    {OpKind::kBatchNormalization, "BatchNormalization"},
    {OpKind::kConcat, "Concat"},
    {OpKind::kAdd, "Add"},
    {OpKind::kMul, "Mul"},
    {OpKind::kSum, "Sum"},
    {OpKind::kMax, "Max"},
    {OpKind::kGemm, "Gemm"},
    {OpKind::kMatMul, "MatMul"},
    {OpKind::kFlatten, "Flatten"},
    {OpKind::kReshape, "Reshape"},
    {OpKind::kTranspose, "Transpose"},
    {OpKind::kSqueeze, "Squeeze"},
    {OpKind::kUnsqueeze, "Unsqueeze"},
    {OpKind::kSoftmax, "Softmax"},
    {OpKind::kIdentity, "Identity"},
    {OpKind::kPad, "Pad"},
    {OpKind::kShape, "Shape"},
    {OpKind::kGather, "Gather"},
    {OpKind::kSlice, "Slice"},
    {OpKind::kReorder, "Reorder"},
    {OpKind::kQuantizeLinear, "QuantizeLinear"},
    {OpKind::kDequantizeLinear, "DequantizeLinear"},
    {OpKind::kFakeQuantize, "FakeQuantize"},
}};
}  // namespace

std::string_view to_string(OpKind kind) {
  for (const auto& [k, name] : kNames)
    if (k == kind) return name;
  return "?";
}

bool follows_convolution_layout(OpKind kind) {
  switch (kind) {
    case OpKind::kMaxPool:
    case OpKind::kAveragePool:
    case OpKind::kGlobalAveragePool:
    case OpKind::kLRN:
    case OpKind::kAdd:
    case OpKind::kMul:
    case OpKind::kSum:
    case OpKind::kMax:
    case OpKind::kBatchNormalization:
    case OpKind::kConcat:
    case OpKind::kSlice:
    case OpKind::kFakeQuantize:
      return true;
    default:
      return is_activation(kind);
  }
}

bool is_activation(OpKind kind) {
  switch (kind) {
    case OpKind::kRelu:
    case OpKind::kClip:
    case OpKind::kLeakyRelu:
    case OpKind::kSigmoid:
    case OpKind::kTanh:
    case OpKind::kHardSigmoid:
    case OpKind::kHardSwish:
      return true;
    default:
      return false;
  }
}

std::optional<OpKind> op_kind_from_string(std::string_view name) {
  for (const auto& [k, n] : kNames)
    if (n == name) return k;
  return std::nullopt;
}

}  // namespace inferd::ir
