// Device memory that Conv and Gemm own: the packed weights a PackedOp uploads once (read
// by every context of the engine), and the scratch buffers tune() times candidates on.
// Host-side conversion from the graph's fp32 constants to the activation dtype lives
// here too, so both op families round weights the same way (to nearest even).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "backends/cuda/cuda_common.h"
#include "core/tensor.h"

namespace inferd::cuda {

// One cudaMalloc'ed block, freed on destruction (move-only).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_) {
    o.data_ = nullptr;
    o.bytes_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  // Zero bytes gives an empty buffer (data() == nullptr).
  static Result<DeviceBuffer> allocate(size_t bytes);
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// fp32 -> fp16 / bf16 bit patterns, round to nearest even (NaN stays NaN).
uint16_t float_to_bf16_bits(float f);

// `values` converted to `dtype` (fp32, fp16 or bf16) as raw bytes.
Result<std::vector<std::byte>> convert_floats(std::span<const float> values, DataType dtype);
// Converts and uploads synchronously (pack time only: the caller has set the device).
Result<DeviceBuffer> upload_weights(std::span<const float> values, DataType dtype);
// A buffer of `bytes` filled with a small non-zero pattern (tuning inputs: timing only
// needs finite values, never zeros that a kernel might short-cut).
Result<DeviceBuffer> allocate_pattern(size_t bytes);
// The largest of `cap`, cap / 2, ... down to 1 MiB that cudaMalloc grants (tuning's
// workspace; candidates needing more are skipped); empty when none is.
DeviceBuffer allocate_largest(size_t cap);

// Convolution filters as the kernels read them, from the graph's fp32 [M, C/g, kH, kW]:
// KRSC [M, kH, kW, padded_c] (cuDNN's NHWC filter; channels past C/g zero) when
// channels_last, else unchanged; a depthwise [C, 1, kH, kW] as [kH][kW][C], channel
// fastest (the own depthwise kernel's).
std::vector<float> filter_values(const Tensor& w, bool channels_last, int64_t padded_c);
std::vector<float> depthwise_filter_values(const Tensor& w);
// A group-1 filter [M, C, kH, kW] as the own direct kernel reads it: [kH][kW][C][M].
std::vector<float> direct_filter_values(const Tensor& w);

// Rounds `bytes` up to a multiple of 256 (how workspace slices are laid out).
inline size_t align256(size_t bytes) {
  return (bytes + 255) / 256 * 256;
}

}  // namespace inferd::cuda
