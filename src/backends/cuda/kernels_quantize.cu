// The input quantization of an INT8 convolution (cuda_conv_int8.cc): a float activation
// rounded onto its grid and stored as signed levels, packed NHWC with the convolution's
// padding written out (backends/api/int8_conv_constants.h says why). Channels-last inputs
// move 8 channels per thread (one 16-byte fp16 load, one 8-byte store): this pass runs in
// front of every INT8 layer, over its whole input. Semantics: core/
// quantize.h's quantized_level(), bit for bit: x / scale (IEEE division) saturated to the
// grid, rounded half to even by adding and subtracting 1.5 * 2^23.
#include <type_traits>

#include "backends/cuda/device_math.cuh"
#include "backends/cuda/kernels_quantize.h"

namespace inferd::cuda {
namespace {

constexpr int kThreads = 256;

struct QuantizeGeometry {
  uint32_t channels, width, height;  // of the padded output
  int pad_h, pad_w;
  int in_h, in_w;
  int64_t x_strides[4];  // N, C, H, W
  float scale, qmin, qmax;
  int offset;
};

template <typename T>
constexpr bool kLevelInput = std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>;

// A float rounded onto the grid, or (int8 / uint8 input) a level already, less the offset.
template <typename T>
__device__ __forceinline__ int stored_level(T x, const QuantizeGeometry& g) {
  if constexpr (kLevelInput<T>) {
    return int(x) - g.offset;
  } else {
    const float level = fminf(fmaxf(__fdiv_rn(to_float(x), g.scale), g.qmin), g.qmax);
    return int(__fsub_rn(__fadd_rn(level, 12582912.0f), 12582912.0f)) - g.offset;
  }
}

// Channels-last input whose pixel strides and pointer allow packs of 8 channels: one thread
// per 8 channels of an output pixel, one 8-byte store (the channel count is a multiple of 8).
template <typename T>
__global__ void quantize_pad_packed_kernel(const T* __restrict__ x, int8_t* __restrict__ y,
                                           const __grid_constant__ QuantizeGeometry g, uint32_t total) {
  const uint32_t packs = g.channels / 8;
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest = i;
    const uint32_t c = (rest % packs) * 8;
    rest /= packs;
    const int w = int(rest % g.width) - g.pad_w;
    rest /= g.width;
    const int h = int(rest % g.height) - g.pad_h;
    const uint32_t n = rest / g.height;
    Pack<int8_t, 8> out;
    if (h >= 0 && w >= 0 && h < g.in_h && w < g.in_w) {
      const Pack<T, 8> in =
          *reinterpret_cast<const Pack<T, 8>*>(x + n * g.x_strides[0] + c + h * g.x_strides[2] + w * g.x_strides[3]);
#pragma unroll
      for (int k = 0; k < 8; ++k) out.v[k] = static_cast<int8_t>(stored_level(in.v[k], g));
    } else {
#pragma unroll
      for (int k = 0; k < 8; ++k) out.v[k] = static_cast<int8_t>(-g.offset);  // the level of 0: the padding
    }
    reinterpret_cast<Pack<int8_t, 8>*>(y)[i] = out;
  }
}

template <typename T>
__global__ void quantize_pad_kernel(const T* __restrict__ x, int8_t* __restrict__ y,
                                    const __grid_constant__ QuantizeGeometry g, uint32_t total) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest = i;
    const uint32_t c = rest % g.channels;
    rest /= g.channels;
    const int w = int(rest % g.width) - g.pad_w;
    rest /= g.width;
    const int h = int(rest % g.height) - g.pad_h;
    const uint32_t n = rest / g.height;
    int stored = -g.offset;  // the level of 0: the padding
    if (h >= 0 && w >= 0 && h < g.in_h && w < g.in_w)
      stored = stored_level(x[n * g.x_strides[0] + c * g.x_strides[1] + h * g.x_strides[2] + w * g.x_strides[3]], g);
    y[i] = static_cast<int8_t>(stored);
  }
}

}  // namespace

cudaError_t launch_quantize_pad_nhwc(const ConstDeviceTensor& x, const InputQuantizeParams& p, int8_t* y,
                                     cudaStream_t stream) {
  if (x.rank != 4 || p.pad_h < 0 || p.pad_w < 0 || !(p.scale > 0)) return cudaErrorInvalidValue;
  const int64_t height = x.dims[2] + 2 * p.pad_h, width = x.dims[3] + 2 * p.pad_w;
  const int64_t total = x.dims[0] * x.dims[1] * height * width;
  if (total >= (int64_t{1} << 32)) return cudaErrorInvalidValue;
  if (total == 0) return cudaSuccess;
  const QuantizeGeometry g{uint32_t(x.dims[1]),
                           uint32_t(width),
                           uint32_t(height),
                           p.pad_h,
                           p.pad_w,
                           int(x.dims[2]),
                           int(x.dims[3]),
                           {x.strides[0], x.strides[1], x.strides[2], x.strides[3]},
                           p.scale,
                           p.qmin,
                           p.qmax,
                           p.offset};
  const auto blocks_for = [](int64_t threads) {
    return unsigned(std::min<int64_t>((threads + kThreads - 1) / kThreads, 65535 * 8));
  };
  const auto launch = [&](auto tag) {
    using T = decltype(tag);
    const auto* src = static_cast<const T*>(x.data);
    const bool packed = x.dims[1] % 8 == 0 && x.strides[1] == 1 && x.strides[0] % 8 == 0 && x.strides[2] % 8 == 0 &&
                        x.strides[3] % 8 == 0 && reinterpret_cast<uintptr_t>(src) % (8 * sizeof(T)) == 0 &&
                        reinterpret_cast<uintptr_t>(y) % 8 == 0;
    if (packed)
      quantize_pad_packed_kernel<T><<<blocks_for(total / 8), kThreads, 0, stream>>>(src, y, g, uint32_t(total / 8));
    else
      quantize_pad_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(src, y, g, uint32_t(total));
  };
  if (x.dtype == DataType::kInt8) {
    launch(int8_t{});
  } else if (x.dtype == DataType::kUint8) {
    launch(uint8_t{});
  } else if (!with_float_type(x.dtype, launch)) {
    return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace inferd::cuda
