// QuantizeLinear / DequantizeLinear: the constant scale and zero point inputs become the
// canonical attributes (ir/op.cc); the passes fold the pairs (passes/qdq_folding.cc).
#include <cmath>

#include "core/fp8.h"
#include "import/onnx/onnx_ops.h"

namespace inferd::onnx_import {
namespace {

// Zero point i as an integer level; a float8 one must be 0 (E4M3 grids are symmetric).
Result<int64_t> zero_point(NodeContext& c, const Tensor& zp, size_t i) {
  switch (zp.dtype()) {
    case DataType::kInt8:
      return int64_t{zp.data<int8_t>()[i]};
    case DataType::kUint8:
      return int64_t{zp.data<uint8_t>()[i]};
    case DataType::kInt64:
      return zp.data<int64_t>()[i];
    case DataType::kFloat8E4m3:
      if (const float v = e4m3_to_float(zp.data<uint8_t>()[i]); v != 0.0f)
        return c.unsupported("a float8 zero point other than 0 (" + std::to_string(v) + ")");
      return int64_t{0};
    default:
      return c.unsupported(std::string("zero point of type ") + to_string(zp.dtype()));
  }
}

// Reads input 1 (scale) and input 2 (zero point, optional) of a Q or DQ node into
// attributes. The quantized side's dtype comes from the zero point, else from a constant
// quantized input (DQ of weights), else ONNX's default for a missing zero point: uint8.
// (Value dtypes of computed inputs are not known yet: shapes are inferred after all nodes
// are converted.)
Status quantization_attributes(NodeContext& c) {
  ASSIGN_OR_RETURN(int64_t block, c.attr_int("block_size", 0));
  if (block != 0) return c.unsupported("blocked quantization (block_size " + std::to_string(block) + ")");
  const Tensor* scale = c.constant_input(1);
  if (scale == nullptr) return c.unsupported("input 'scale' must be a constant");
  if (scale->dtype() != DataType::kFloat32) return c.fail("input 'scale' must be float");
  std::vector<float> scales(scale->floats().begin(), scale->floats().end());
  std::vector<int64_t> zero_points(scales.size(), 0);
  // ONNX: without a zero point, QuantizeLinear produces uint8.
  DataType dtype = DataType::kUint8;
  if (const Tensor* q = c.constant_input(0); q != nullptr && q->dtype() != DataType::kFloat32) dtype = q->dtype();
  if (c.has_input(2)) {
    const Tensor* zp = c.constant_input(2);
    if (zp == nullptr) return c.unsupported("input 'zero_point' must be a constant");
    if (zp->size() != scale->size()) return c.fail("has " + std::to_string(scale->size()) + " scales and " +
                                                   std::to_string(zp->size()) + " zero points");
    dtype = zp->dtype();
    for (size_t i = 0; i < zero_points.size(); ++i) {
      ASSIGN_OR_RETURN(zero_points[i], zero_point(c, *zp, i));
    }
  }
  ASSIGN_OR_RETURN(int64_t axis, c.attr_int("axis", 1));
  c.attrs().set("scales", scales);
  c.attrs().set("zero_points", zero_points);
  c.attrs().set("axis", axis);
  c.attrs().set("dtype", static_cast<int64_t>(dtype));
  c.node().inputs.resize(1);
  return Status::ok();
}

}  // namespace

Status convert_quantize_linear(NodeContext& c) {
  ASSIGN_OR_RETURN(int64_t output_dtype, c.attr_int("output_dtype", 0));
  if (output_dtype != 0 && !c.has_input(2))
    return c.unsupported("attribute 'output_dtype' (give the type through the zero point)");
  RETURN_IF_ERROR(quantization_attributes(c));
  // `saturate` concerns float8 only (int8/uint8 always saturate); without it an out-of-range
  // value becomes NaN, which inferd's E4M3 rounding (core/fp8.h) never produces.
  ASSIGN_OR_RETURN(int64_t saturate, c.attr_int("saturate", 1));
  if (saturate == 0 && c.attrs().get_int("dtype", 0) == static_cast<int64_t>(DataType::kFloat8E4m3))
    return c.unsupported("saturate = 0 (float8 quantization that saturates at +-448 only)");
  return Status::ok();
}

Status convert_dequantize_linear(NodeContext& c) { return quantization_attributes(c); }

}  // namespace inferd::onnx_import
