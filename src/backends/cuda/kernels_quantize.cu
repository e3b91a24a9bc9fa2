// The input quantization of an INT8 convolution (cuda_conv_int8.cc): a float activation
// rounded onto its grid and stored as signed levels, packed NHWC with the convolution's
// padding written out (backends/api/int8_conv_constants.h says why). Semantics: core/
// quantize.h's quantized_level(), bit for bit: x / scale (IEEE division) saturated to the
// grid, rounded half to even by adding and subtracting 1.5 * 2^23.
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
    if (h >= 0 && w >= 0 && h < g.in_h && w < g.in_w) {
      const float v = to_float(x[n * g.x_strides[0] + c * g.x_strides[1] + h * g.x_strides[2] + w * g.x_strides[3]]);
      const float level = fminf(fmaxf(__fdiv_rn(v, g.scale), g.qmin), g.qmax);
      stored = int(__fsub_rn(__fadd_rn(level, 12582912.0f), 12582912.0f)) - g.offset;
    }
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
  const unsigned blocks = unsigned(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535 * 8));
  const bool known = with_float_type(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    quantize_pad_kernel<T><<<blocks, kThreads, 0, stream>>>(static_cast<const T*>(x.data), y, g, uint32_t(total));
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace inferd::cuda
