#include "import/onnx/onnx_tensor.h"

#include <array>
#include <cstring>

#include "ir/shape_inference.h"

namespace inferd::onnx_import {
namespace {

constexpr size_t kMaxRank = 32;

// How one ONNX element type is stored in the file and what it becomes in inferd.
struct ElementType {
  DataType imported;
  size_t file_bytes;
};

Result<ElementType> element_type(int32_t data_type, const std::string& what) {
  switch (data_type) {
    case onnx::TensorProto::FLOAT: return ElementType{DataType::kFloat32, 4};
    case onnx::TensorProto::FLOAT16: return ElementType{DataType::kFloat32, 2};
    case onnx::TensorProto::INT64: return ElementType{DataType::kInt64, 8};
    case onnx::TensorProto::INT32: return ElementType{DataType::kInt64, 4};
    case onnx::TensorProto::BOOL: return ElementType{DataType::kBool, 1};
    // Quantized weights and zero points (read by DequantizeLinear/QuantizeLinear).
    case onnx::TensorProto::INT8: return ElementType{DataType::kInt8, 1};
    case onnx::TensorProto::UINT8: return ElementType{DataType::kUint8, 1};
    case kOnnxFloat8E4m3fn:
      return ElementType{DataType::kFloat8E4m3, 1};  // FP8 Q/DQ
    default:
      return unimplemented(what + " has data type " + onnx_type_name(data_type) +
                           ", which inferd does not import (FLOAT, FLOAT16, INT64, INT32, INT8, UINT8, BOOL)");
  }
}

// Stores element i of the file's representation (`bits`: raw little-endian bits or a
// typed-field value) into `out` as the imported type.
void store_element(int32_t data_type, Tensor& out, size_t i, uint64_t bits) {
  switch (data_type) {
    case onnx::TensorProto::FLOAT: {
      const auto b = static_cast<uint32_t>(bits);
      std::memcpy(out.data<float>() + i, &b, 4);
      break;
    }
    case onnx::TensorProto::FLOAT16:
      out.data<float>()[i] = half_to_float(static_cast<uint16_t>(bits));
      break;
    case onnx::TensorProto::INT64:
      out.data<int64_t>()[i] = static_cast<int64_t>(bits);
      break;
    case onnx::TensorProto::INT32:
      out.data<int64_t>()[i] = static_cast<int32_t>(static_cast<uint32_t>(bits));
      break;
    case onnx::TensorProto::INT8:
      out.data<int8_t>()[i] = static_cast<int8_t>(static_cast<uint8_t>(bits));
      break;
    case onnx::TensorProto::UINT8:
    case kOnnxFloat8E4m3fn:  // the code's bits, decoded where it is dequantized
      out.data<uint8_t>()[i] = static_cast<uint8_t>(bits);
      break;
    default:  // BOOL
      out.data<uint8_t>()[i] = bits != 0 ? 1 : 0;
      break;
  }
}

void decode_little_endian(int32_t data_type, size_t file_bytes, const uint8_t* src, Tensor& out) {
  const auto count = static_cast<size_t>(out.size());
  for (size_t i = 0; i < count; ++i) {
    uint64_t bits = 0;
    for (size_t b = 0; b < file_bytes; ++b) bits |= uint64_t{src[i * file_bytes + b]} << (8 * b);
    store_element(data_type, out, i, bits);
  }
}

// Copies the typed field (float_data, int64_data or int32_data) whose length the
// caller has checked.
void decode_typed_fields(const onnx::TensorProto& p, Tensor& out) {
  const auto count = static_cast<size_t>(out.size());
  for (size_t i = 0; i < count; ++i) {
    const int n = static_cast<int>(i);
    uint64_t bits = 0;
    switch (p.data_type()) {
      case onnx::TensorProto::FLOAT: {
        const float f = p.float_data(n);
        uint32_t b;
        std::memcpy(&b, &f, 4);
        bits = b;
        break;
      }
      case onnx::TensorProto::INT64: bits = static_cast<uint64_t>(p.int64_data(n)); break;
      default: bits = static_cast<uint32_t>(p.int32_data(n)); break;  // FLOAT16 keeps its bits in the low 16
    }
    store_element(p.data_type(), out, i, bits);
  }
}

}  // namespace

std::string onnx_type_name(int32_t data_type) {
  static constexpr std::array<const char*, 24> kNames{
      "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
      "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128",
      "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1"};
  if (data_type >= 0 && static_cast<size_t>(data_type) < kNames.size()) return kNames[static_cast<size_t>(data_type)];
  return "type " + std::to_string(data_type);
}

Result<int64_t> checked_element_count(std::span<const int64_t> dims, const std::string& what) {
  if (dims.size() > kMaxRank)
    return unimplemented(what + " has " + std::to_string(dims.size()) + " dims; at most " +
                         std::to_string(kMaxRank) + " are supported");
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0) return invalid_argument(what + " has a negative dim " + std::to_string(d));
    if (d > ir::kMaxTensorElements || (d > 0 && count > ir::kMaxTensorElements / d))
      return resource_exhausted(what + " has more than 2^31 elements");
    count *= d;
  }
  return count;
}

Result<Tensor> read_tensor(const onnx::TensorProto& p, const std::string& what, const std::string& base_dir) {
  ASSIGN_OR_RETURN(ElementType type, element_type(p.data_type(), what));
  if (p.has_segment()) return unimplemented(what + " is segmented, which inferd does not import");
  const std::span<const int64_t> dims(p.dims().data(), static_cast<size_t>(p.dims_size()));
  ASSIGN_OR_RETURN(int64_t count, checked_element_count(dims, what));
  const uint64_t expected_bytes = static_cast<uint64_t>(count) * type.file_bytes;

  if (p.data_location() == onnx::TensorProto::EXTERNAL) {
    ASSIGN_OR_RETURN(auto bytes, read_external_data(p, what, base_dir, expected_bytes));
    Tensor out(type.imported, Shape(dims.begin(), dims.end()));
    decode_little_endian(p.data_type(), type.file_bytes, bytes.data(), out);
    return out;
  }
  if (p.has_raw_data()) {
    if (p.raw_data().size() != expected_bytes)
      return data_loss(what + ": raw_data has " + std::to_string(p.raw_data().size()) + " bytes, expected " +
                       std::to_string(expected_bytes) + " (" + std::to_string(count) + " elements of " +
                       onnx_type_name(p.data_type()) + ")");
    Tensor out(type.imported, Shape(dims.begin(), dims.end()));
    decode_little_endian(p.data_type(), type.file_bytes, reinterpret_cast<const uint8_t*>(p.raw_data().data()), out);
    return out;
  }
  // Typed fields: check their length before allocating, so a huge declared shape with
  // no data cannot make us allocate.
  const size_t typed = p.data_type() == onnx::TensorProto::FLOAT   ? static_cast<size_t>(p.float_data_size())
                       : p.data_type() == onnx::TensorProto::INT64 ? static_cast<size_t>(p.int64_data_size())
                                                                   : static_cast<size_t>(p.int32_data_size());
  if (typed != static_cast<size_t>(count))
    return data_loss(what + ": has " + std::to_string(typed) + " values, expected " + std::to_string(count) +
                     " for dims " + to_string(Shape(dims.begin(), dims.end())));
  Tensor out(type.imported, Shape(dims.begin(), dims.end()));
  decode_typed_fields(p, out);
  return out;
}

}  // namespace inferd::onnx_import
