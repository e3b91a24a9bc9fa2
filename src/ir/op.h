// The operators the IR knows. Importers map their formats onto these kinds and
// canonical attributes (documented per kind in op.cc); passes and backends only
// ever see this vocabulary.
#pragma once

#include <optional>
#include <string_view>

namespace inferd::ir {

enum class OpKind {
  kConv,
  kConvTranspose,  // ONNX ConvTranspose / Caffe Deconvolution (2-D), the gradient of Conv w.r.t. its input
  kRelu,
  kClip,
  kLeakyRelu,
  kSigmoid,
  kTanh,
  kHardSigmoid,
  kHardSwish,
  kMaxPool,
  kAveragePool,
  kGlobalAveragePool,
  kLRN,
  kBatchNormalization,
  kConcat,
  kAdd,
  kMul,
  kSum,
  kMax,  // element-wise maximum of 1..n inputs (numpy broadcasting), ONNX Max
  kGemm,
  kMatMul,
  kFlatten,
  kReshape,
  kTranspose,
  kSqueeze,
  kUnsqueeze,
  kSoftmax,
  kIdentity,
  kPad,
  kShape,
  kGather,
  kSlice,     // produced by horizontal fusion: a channel range of its input (attrs: axis, start, end)
  kReorder,   // produced by the layout pass: same logical tensor, another memory layout
  kQuantizeLinear,    // ONNX QuantizeLinear: float -> int8/uint8 (folded away by the passes)
  kDequantizeLinear,  // ONNX DequantizeLinear: int8/uint8 -> float (folded away by the passes)
  kFakeQuantize,      // float -> float rounded to an int8/uint8 grid (a Q/DQ pair, simulated) or to E4M3
};

std::string_view to_string(OpKind kind);
// The element-wise activations a Conv or Gemm can carry fused (attr "activation").
bool is_activation(OpKind kind);
// Ops that compute per element, per channel or per spatial window and so run in whichever
// layout their input has (pools, LRN, activations, Add/Mul/Sum, BatchNormalization, Concat,
// Slice): backends that want convolutions in NHWC ask for it here too, so that no Reorder
// sits between a convolution and these.
bool follows_convolution_layout(OpKind kind);
std::optional<OpKind> op_kind_from_string(std::string_view name);

}  // namespace inferd::ir
