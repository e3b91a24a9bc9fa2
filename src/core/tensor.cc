#include "core/tensor.h"

#include <bit>
#include <cassert>

namespace inferd {

size_t element_size(DataType t) {
  switch (t) {
    case DataType::kFloat32:
      return 4;
    case DataType::kFloat16:
      return 2;
    case DataType::kBFloat16:
      return 2;
    case DataType::kInt64:
      return 8;
    case DataType::kInt32:
      return 4;
    case DataType::kInt8:
      return 1;
    case DataType::kUint8:
      return 1;
    case DataType::kBool:
      return 1;
    case DataType::kFloat8E4m3:
      return 1;
  }
  return 0;
}

const char* to_string(DataType t) {
  switch (t) {
    case DataType::kFloat32:
      return "float32";
    case DataType::kFloat16:
      return "float16";
    case DataType::kBFloat16:
      return "bfloat16";
    case DataType::kInt64:
      return "int64";
    case DataType::kInt32:
      return "int32";
    case DataType::kInt8:
      return "int8";
    case DataType::kUint8:
      return "uint8";
    case DataType::kBool:
      return "bool";
    case DataType::kFloat8E4m3:
      return "float8e4m3";
  }
  return "?";
}

int64_t element_count(const Shape& s, int64_t dynamic_as) {
  int64_t n = 1;
  for (int64_t d : s) n *= (d == kDynamicDim ? dynamic_as : d);
  return n;
}

std::string to_string(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ",";
    out += s[i] == kDynamicDim ? std::string("N") : std::to_string(s[i]);
  }
  return out + "]";
}

Tensor::Tensor(DataType dtype, Shape shape)
    : dtype_(dtype),
      shape_(std::move(shape)),
      bytes_(static_cast<size_t>(element_count(shape_)) * element_size(dtype), std::byte{0}) {}

Tensor::Tensor(DataType dtype, Shape shape, Uninitialized) : dtype_(dtype), shape_(std::move(shape)) {
  bytes_.resize(static_cast<size_t>(element_count(shape_)) * element_size(dtype));
}

Tensor Tensor::from_floats(Shape shape, std::span<const float> values) {
  Tensor t(DataType::kFloat32, std::move(shape));
  assert(static_cast<size_t>(t.size()) == values.size());
  std::memcpy(t.raw(), values.data(), values.size_bytes());
  return t;
}

Tensor Tensor::from_int64s(Shape shape, std::span<const int64_t> values) {
  Tensor t(DataType::kInt64, std::move(shape));
  assert(static_cast<size_t>(t.size()) == values.size());
  std::memcpy(t.raw(), values.data(), values.size_bytes());
  return t;
}

Tensor Tensor::reshaped(Shape shape) const& {
  Tensor t = *this;
  return std::move(t).reshaped(std::move(shape));
}

Tensor Tensor::reshaped(Shape shape) && {
  assert(element_count(shape) == size());
  shape_ = std::move(shape);
  return std::move(*this);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t float_to_half(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const uint32_t shift = static_cast<uint32_t>(14 - exp);
    uint32_t half = mant >> shift;
    if ((mant >> (shift - 1)) & 1u) ++half;  // round half up
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  if (mant & 0x1000u) ++half;  // round to nearest
  return static_cast<uint16_t>(half);
}

}  // namespace inferd
