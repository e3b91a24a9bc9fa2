#include "backends/cuda/cuda_weights.h"

#include <cstring>
#include <string>

namespace inferd::cuda {

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (data_) cudaFree(data_);
    data_ = o.data_;
    bytes_ = o.bytes_;
    o.data_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  // A destructor cannot report; a failed free only leaks on a device that is failing anyway.
  if (data_) cudaFree(data_);
}

Result<DeviceBuffer> DeviceBuffer::allocate(size_t bytes) {
  DeviceBuffer buffer;
  if (bytes == 0) return buffer;
  const cudaError_t err = cudaMalloc(&buffer.data_, bytes);
  if (err != cudaSuccess) {
    cudaGetLastError();  // reset the last-error state so a later unrelated check does not report it
    return resource_exhausted("cudaMalloc of " + std::to_string(bytes) + " bytes failed: " + cudaGetErrorString(err));
  }
  buffer.bytes_ = bytes;
  return buffer;
}

uint16_t float_to_bf16_bits(float f) {
  uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

Result<std::vector<std::byte>> convert_floats(std::span<const float> values, DataType dtype) {
  std::vector<std::byte> bytes(values.size() * element_size(dtype));
  switch (dtype) {
    case DataType::kFloat32:
      if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
      return bytes;
    case DataType::kFloat16:
    case DataType::kBFloat16: {
      const bool half = dtype == DataType::kFloat16;
      for (size_t i = 0; i < values.size(); ++i) {
        const uint16_t bits = half ? float_to_half(values[i]) : float_to_bf16_bits(values[i]);
        std::memcpy(bytes.data() + 2 * i, &bits, 2);
      }
      return bytes;
    }
    default:
      return unimplemented(std::string("weights of type ") + to_string(dtype) + " on CUDA");
  }
}

Result<DeviceBuffer> upload_weights(std::span<const float> values, DataType dtype) {
  ASSIGN_OR_RETURN(std::vector<std::byte> bytes, convert_floats(values, dtype));
  ASSIGN_OR_RETURN(DeviceBuffer buffer, DeviceBuffer::allocate(bytes.size()));
  if (!bytes.empty())
    CUDA_RETURN_IF_ERROR(cudaMemcpy(buffer.data(), bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
  return buffer;
}

Result<DeviceBuffer> allocate_pattern(size_t bytes) {
  ASSIGN_OR_RETURN(DeviceBuffer buffer, DeviceBuffer::allocate(bytes));
  // 0x3C bytes read as 0.0115 in fp32, 1.06 in fp16 and 0.0115 in bf16: finite, non-zero.
  if (bytes) CUDA_RETURN_IF_ERROR(cudaMemset(buffer.data(), 0x3C, bytes));
  return buffer;
}

DeviceBuffer allocate_largest(size_t cap) {
  for (size_t bytes = cap; bytes >= (size_t{1} << 20); bytes /= 2) {
    Result<DeviceBuffer> buffer = DeviceBuffer::allocate(bytes);
    if (buffer.is_ok()) return std::move(buffer).value();
  }
  return DeviceBuffer();
}

// W [M, C/g, kH, kW] as KRSC [M, kH, kW, padded_c] (cuDNN's NHWC filter; the channels past
// C/g zero) or unchanged.
std::vector<float> filter_values(const Tensor& w, bool channels_last, int64_t padded_c) {
  const std::span<const float> src = w.floats();
  if (!channels_last) return {src.begin(), src.end()};
  const int64_t m = w.shape()[0], c = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  std::vector<float> out(static_cast<size_t>(m * kh * kw * padded_c), 0.0f);  // padded channels stay zero
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < c; ++i)
      for (int64_t h = 0; h < kh; ++h)
        for (int64_t v = 0; v < kw; ++v)
          out[((o * kh + h) * kw + v) * padded_c + i] = src[((o * c + i) * kh + h) * kw + v];
  return out;
}

// A depthwise filter [C, 1, kH, kW] as the own kernel reads it: [kH][kW][C], channel fastest.
std::vector<float> depthwise_filter_values(const Tensor& w) {
  const int64_t c = w.shape()[0], kh = w.shape()[2], kw = w.shape()[3];
  const std::span<const float> src = w.floats();
  std::vector<float> out(src.size());
  for (int64_t o = 0; o < c; ++o)
    for (int64_t h = 0; h < kh; ++h)
      for (int64_t v = 0; v < kw; ++v) out[(h * kw + v) * c + o] = src[(o * kh + h) * kw + v];
  return out;
}

std::vector<float> direct_filter_values(const Tensor& w) {
  const int64_t m = w.shape()[0], c = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  const std::span<const float> src = w.floats();
  std::vector<float> out(src.size());
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < c; ++i)
      for (int64_t h = 0; h < kh; ++h)
        for (int64_t v = 0; v < kw; ++v) out[((h * kw + v) * c + i) * m + o] = src[((o * c + i) * kh + h) * kw + v];
  return out;
}

}  // namespace inferd::cuda
