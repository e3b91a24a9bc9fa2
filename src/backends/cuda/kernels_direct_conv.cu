// Direct convolution over few input channels, channels-last, on the CUDA cores:
// y = act(conv(x, filter) + bias + residual), group 1.
//
// What it is for: the layers cuDNN runs worst on the H200, where the input has few
// channels, so a GEMM's reduction dimension is short and tensor cores idle: an RGB image's
// first convolution (C = 3; padded to 8 for cuDNN it computes 2.7x the work) and
// MobileNetV2's 1x1 expansions of 16 or 24 channels (1.9 ms for a 10 GFLOP layer at
// batch 256, 2026-12-03). Such layers are bound by memory or by few multiply-adds per
// output, which plain FMAs cover. The tuner times this kernel beside cuDNN per batch and
// keeps it only where it wins (cuda_conv_tune.cc).
//
// Each thread computes V neighbouring output channels (one 16-byte store for 8 fp16
// channels) of P neighbouring output pixels of a row, reading the filter as packs of V
// output channels: filter layout [kH][kW][C][M], M fastest. Threads are ordered
// output-channel pack fastest, so the threads of one pixel group share its input reads (L1).
#include <algorithm>

#include "backends/cuda/device_math.cuh"
#include "backends/cuda/window.cuh"
#include "backends/cuda/kernels_nhwc.h"

namespace inferd::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 1 << 16;

struct DirectGeometry {
  uint32_t packs, out_w, out_h;  // output-channel packs per pixel, output W and H
  int in_h, in_w, in_c, out_c;
  int64_t xs[3], ys[3], rs[3];  // N, H, W strides (channel stride 1)
  DirectConvParams p;
};

// P neighbouring output columns per thread, input channels read IV at a time: each filter
// pack loaded serves P pixels and each input load IV channels. P = 1, IV = 1 is the plain
// per-pixel form, kept for the narrow packs; the widest pack runs P = kPixels, which cut
// the loads per output by about 4 (a 1x1 layer of 16 input channels made 32 loads per 8
// outputs: 16 scalar inputs and 16 filter packs). g.out_w counts the threads' column
// groups; out_w is the real width.
constexpr int kPixels = 4;

template <typename T, int V, int IV, int P>
__global__ void direct_conv_kernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                                   const T* r, T* y, const __grid_constant__ DirectGeometry g, int out_w,
                                   uint32_t total) {
  const DirectConvParams& p = g.p;
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest = i;
    const int m0 = int(rest % g.packs) * V;
    rest /= g.packs;
    const int ow0 = int(rest % g.out_w) * P;
    rest /= g.out_w;
    const uint32_t oh = rest % g.out_h, n = rest / g.out_h;
    float acc[P][V];
#pragma unroll
    for (int o = 0; o < P; ++o) load_bias<T, V>(bias ? bias + m0 : nullptr, acc[o]);
    const int h0 = int(oh) * p.strides[0] - p.pads[0];
    const T* image = x + n * g.xs[0];
    for (int kh = 0; kh < p.kernel[0]; ++kh) {
      const int ih = h0 + kh * p.dilations[0];
      if (ih < 0 || ih >= g.in_h) continue;
      for (int kw = 0; kw < p.kernel[1]; ++kw) {
        const T* pixel[P];
#pragma unroll
        for (int o = 0; o < P; ++o) {
          const int iw = (ow0 + o) * p.strides[1] - p.pads[1] + kw * p.dilations[1];
          pixel[o] = iw >= 0 && iw < g.in_w && ow0 + o < out_w ? image + ih * g.xs[1] + iw * g.xs[2] : nullptr;
        }
        const T* taps = w + (int64_t(kh * p.kernel[1] + kw) * g.in_c) * g.out_c + m0;
        for (int c0 = 0; c0 < g.in_c; c0 += IV) {
          float v[P][IV];
#pragma unroll
          for (int o = 0; o < P; ++o) {
            if (pixel[o]) {
              load_floats<T, IV>(pixel[o] + c0, v[o]);
            } else {
#pragma unroll
              for (int k = 0; k < IV; ++k) v[o][k] = 0.0f;
            }
          }
#pragma unroll
          for (int k = 0; k < IV; ++k) {
            float f[V];
            load_floats<T, V>(taps + int64_t(c0 + k) * g.out_c, f);
#pragma unroll
            for (int o = 0; o < P; ++o)
#pragma unroll
              for (int m = 0; m < V; ++m) acc[o][m] = fmaf(v[o][k], f[m], acc[o][m]);
          }
        }
      }
    }
#pragma unroll
    for (int o = 0; o < P; ++o) {
      const int ow = ow0 + o;
      if (ow >= out_w) break;
      finish_conv_pack<T, V>(acc[o], r ? r + n * g.rs[0] + oh * g.rs[1] + ow * g.rs[2] + m0 : nullptr, p.act,
                             y + n * g.ys[0] + oh * g.ys[1] + ow * g.ys[2] + m0);
    }
  }
}

template <typename T, int V, int IV, int P>
void launch_direct(const ConstDeviceTensor& x, const void* filter, const void* bias, const ConstDeviceTensor* residual,
                   const DeviceTensor& y, DirectGeometry g, cudaStream_t stream) {
  const int out_w = static_cast<int>(g.out_w);
  g.out_w = static_cast<uint32_t>((out_w + P - 1) / P);
  const int64_t total = y.dims[0] * int64_t(g.packs) * g.out_w * g.out_h;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((total + kThreads - 1) / kThreads, kMaxBlocks));
  direct_conv_kernel<T, V, IV, P><<<blocks, kThreads, 0, stream>>>(
      static_cast<const T*>(x.data), static_cast<const T*>(filter), static_cast<const T*>(bias),
      residual ? static_cast<const T*>(residual->data) : nullptr, static_cast<T*>(y.data), g, out_w, uint32_t(total));
}

}  // namespace

cudaError_t launch_direct_conv_nhwc(const ConstDeviceTensor& x, const void* filter, const void* bias,
                                    const ConstDeviceTensor* residual, const DeviceTensor& y,
                                    const DirectConvParams& p, cudaStream_t stream) {
  if (x.rank != 4 || y.rank != 4 || x.dtype != y.dtype || x.strides[1] != 1 || y.strides[1] != 1 ||
      x.dims[0] != y.dims[0] || x.dims[1] <= 0 || y.dims[1] <= 0)
    return cudaErrorInvalidValue;
  if (residual && (residual->dtype != y.dtype || residual->rank != 4 || residual->strides[1] != 1))
    return cudaErrorInvalidValue;
  // Packs of output channels: y's (and the residual's) pixel strides and pointer, the
  // filter's row (M) and the bias decide the width.
  const void* pointers[4] = {y.data, filter, bias ? bias : filter, residual ? residual->data : y.data};
  const int64_t offsets[7] = {y.dims[1], y.strides[0], y.strides[2], y.strides[3],
                              residual ? residual->strides[0] : 0, residual ? residual->strides[2] : 0,
                              residual ? residual->strides[3] : 0};
  const int v = pack_width(static_cast<int>(element_size(y.dtype)), pointers, 4, offsets, 7);
  const int64_t total = y.dims[0] * (y.dims[1] / v) * y.dims[2] * y.dims[3];
  if (total >= (int64_t{1} << 32)) return cudaErrorInvalidValue;
  if (total == 0) return cudaSuccess;
  DirectGeometry g{uint32_t(y.dims[1] / v), uint32_t(y.dims[3]), uint32_t(y.dims[2]), int(x.dims[2]), int(x.dims[3]),
                   int(x.dims[1]), int(y.dims[1]),
                   {x.strides[0], x.strides[2], x.strides[3]}, {y.strides[0], y.strides[2], y.strides[3]},
                   {0, 0, 0}, p};
  if (residual) {
    g.rs[0] = residual->strides[0];
    g.rs[1] = residual->strides[2];
    g.rs[2] = residual->strides[3];
  }
  // Input channels per load: the widest pack x's channel count, strides and pointer allow,
  // used only at the widest output pack (else 1: fewer kernels to compile).
  const void* x_pointer[1] = {x.data};
  const int64_t x_offsets[4] = {x.dims[1], x.strides[0], x.strides[2], x.strides[3]};
  const int iv = pack_width(static_cast<int>(element_size(x.dtype)), x_pointer, 1, x_offsets, 4);
  const bool known = with_float_type(y.dtype, [&](auto tag) {
    using T = decltype(tag);
    with_pack_width(v, [&](auto width) {
      constexpr int V = decltype(width)::value;
      if constexpr (V * sizeof(T) == 16) {
        if (iv == V)
          launch_direct<T, V, V, kPixels>(x, filter, bias, residual, y, g, stream);
        else
          launch_direct<T, V, 1, kPixels>(x, filter, bias, residual, y, g, stream);
      } else {
        launch_direct<T, V, 1, 1>(x, filter, bias, residual, y, g, stream);
      }
    });
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace inferd::cuda
