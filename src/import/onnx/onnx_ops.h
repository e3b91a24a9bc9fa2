// The ONNX operators inferd imports: one table from op type to a converter that maps
// the node onto an ir::OpKind with canonical attributes (ir/op.cc). Internal to the
// ONNX importer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "core/status.h"
#include "import/onnx/onnx_node.h"
#include "ir/op.h"

namespace inferd::onnx_import {

inline constexpr size_t kAnyCount = std::numeric_limits<size_t>::max();

struct OpConverter {
  std::string_view onnx_type;
  ir::OpKind kind;
  int64_t since_opset;  // the first opset that defines the operator
  size_t min_inputs, max_inputs, max_outputs;
  std::string_view attributes;  // every attribute the converter understands, comma-separated
  // Fills ctx.node()'s attributes (canonical, defaults filled) and trims inputs and
  // outputs that the IR form does not keep (constant inputs turned into attributes,
  // unused secondary outputs).
  Status (*convert)(NodeContext& ctx);
};

// QuantizeLinear / DequantizeLinear (onnx_quant_ops.cc).
Status convert_quantize_linear(NodeContext& c);
Status convert_dequantize_linear(NodeContext& c);

// nullptr for an operator inferd does not import.
const OpConverter* find_converter(std::string_view onnx_type);

// Temporary attributes a converter leaves for resolve_shape_dependent_attributes (they
// need input shapes): auto_pad SAME_* and Conv's kernel_shape check.
inline constexpr const char* kPendingAutoPad = "onnx.auto_pad";
inline constexpr const char* kPendingKernelShape = "onnx.kernel_shape";

// Once the node's input shapes are known (nodes sorted, earlier nodes inferred):
// resolves auto_pad into pads, checks Conv's kernel_shape against the weight, fills
// rank-dependent defaults (Transpose perm, Squeeze axes) and makes axes non-negative.
Status resolve_shape_dependent_attributes(ir::Graph& g, ir::Node& n);

}  // namespace inferd::onnx_import
