// Shape rules of the quantization ops: QuantizeLinear, DequantizeLinear (imported, folded
// by the passes) and FakeQuantize (what a Q/DQ pair becomes).
#include <cmath>

#include "ir/shape_rules.h"

namespace inferd::ir::shape_rules {
namespace {

// scales / zero_points / axis against the input shape: one pair per tensor, or one per
// slice along `axis`.
Status check_quantization_params(NodeShapes& s) {
  const auto zero_points = s.attrs().get_ints("zero_points");
  const Attribute* scale_attr = nullptr;
  if (auto it = s.attrs().all().find("scales"); it != s.attrs().all().end()) scale_attr = &it->second;
  const auto* scale_values = scale_attr ? std::get_if<std::vector<float>>(scale_attr) : nullptr;
  if (scale_values == nullptr || scale_values->empty()) return s.fail("has no scales");
  for (float v : *scale_values)
    if (!(v > 0.0f) || !std::isfinite(v)) return s.fail("scale " + std::to_string(v) + " is not positive and finite");
  if (zero_points.size() != scale_values->size())
    return s.fail(std::to_string(scale_values->size()) + " scales but " + std::to_string(zero_points.size()) +
                  " zero points");
  if (scale_values->size() == 1) return Status::ok();
  const Shape& x = s.in_shape(0);
  ASSIGN_OR_RETURN(int64_t axis, s.axis("axis", 1, x.size()));
  if (x[static_cast<size_t>(axis)] != static_cast<int64_t>(scale_values->size()))
    return s.fail(std::to_string(scale_values->size()) + " scales along axis " + std::to_string(axis) + " of " +
                  s.describe_input(0));
  return Status::ok();
}

Result<DataType> quantized_dtype(NodeShapes& s) {
  const auto dtype = static_cast<DataType>(s.attrs().get_int("dtype", static_cast<int64_t>(DataType::kInt8)));
  if (dtype != DataType::kInt8 && dtype != DataType::kUint8 && dtype != DataType::kFloat8E4m3)
    return s.unsupported(std::string("quantizes to ") + to_string(dtype) + " (int8, uint8 and float8e4m3 only)");
  return dtype;
}

}  // namespace

Status quantize_linear(NodeShapes& s) {
  RETURN_IF_ERROR(s.require_float(0));
  RETURN_IF_ERROR(check_quantization_params(s));
  ASSIGN_OR_RETURN(DataType dtype, quantized_dtype(s));
  return s.set_output(dtype, s.in_shape(0));
}

Status dequantize_linear(NodeShapes& s) {
  const DataType in = s.input(0).dtype;
  // int64 holds INT32 biases (the importer widens INT32 to int64).
  if (in != DataType::kInt8 && in != DataType::kUint8 && in != DataType::kInt64 && in != DataType::kFloat8E4m3)
    return s.fail(std::string("dequantizes ") + to_string(in) + " (int8, uint8, int32 or float8e4m3 only)");
  RETURN_IF_ERROR(check_quantization_params(s));
  return s.set_output(DataType::kFloat32, s.in_shape(0));
}

Status fake_quantize(NodeShapes& s) {
  RETURN_IF_ERROR(s.require_float(0));
  const float scale = s.attrs().get_float("scale", 0.0f);
  if (!(scale > 0.0f) || !std::isfinite(scale)) return s.fail("scale " + std::to_string(scale) + " is not positive and finite");
  const std::string format = s.attrs().get_string("format", "int");
  if (format == "e4m3") {
    if (s.attrs().has("zero_point") || s.attrs().has("qmin") || s.attrs().has("qmax"))
      return s.fail("rounds to e4m3, which has no zero point, qmin or qmax");
    return s.set_output(s.activation_dtype(), s.in_shape(0));
  }
  if (format != "int") return s.fail("has format '" + format + "' (int or e4m3)");
  const int64_t qmin = s.attrs().get_int("qmin", -128), qmax = s.attrs().get_int("qmax", 127);
  const int64_t zp = s.attrs().get_int("zero_point", 0);
  if (qmin >= qmax || zp < qmin || zp > qmax)
    return s.fail("zero point " + std::to_string(zp) + " outside the range [" + std::to_string(qmin) + ", " +
                  std::to_string(qmax) + "]");
  return s.set_output(s.activation_dtype(), s.in_shape(0));
}

}  // namespace inferd::ir::shape_rules
