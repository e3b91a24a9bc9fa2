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
#include "backends/cuda/kernels_nhwc.h"
#include "backends/cuda/window.cuh"

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

// ---- few input channels (an image's first layer), tile and filter in shared memory -------
// With C <= 4 the per-pixel form above makes one 2-byte load per input channel, pixel and
// tap, and converts every filter element it loads. Here a block first copies the input
// patch its tile of outputs reads and the whole filter into shared memory as floats, and
// its threads then compute from there: per tap and channel, two 16-byte filter reads and
// kStemPixels input reads serve 8 x kStemPixels FMAs. A block covers all M output channels
// of a tile of kStemTileW columns and tile_h = slots * kStemPixels / kStemTileW rows;
// thread t computes 8 channels (pack t % (M / 8)) of kStemPixels neighbouring columns.
constexpr int kStemPixels = 8, kStemTileW = 32;

struct StemGeometry {
  int packs, tile_h, patch_h, patch_w, tiles_h, tiles_w;  // patch: input rows and columns of a tile
  int in_h, in_w, in_c, out_h, out_w, out_c;
  int64_t xs[3], ys[3], rs[3];
  DirectConvParams p;
};

// Copies the tile's input patch ([patch_h][patch_w][in_c], zeros outside the image) and
// the filter ([kH][kW][C][M]) into shared memory as floats.
template <typename T>
__device__ __forceinline__ void stage_stem(const T* image, const T* w, const StemGeometry& g, int ih0, int iw0,
                                           float* patch, float* filter) {
  const int row_elems = g.patch_w * g.in_c;
  for (int pr = 0; pr < g.patch_h; ++pr) {
    const int ih = ih0 + pr;
    const bool row_in = ih >= 0 && ih < g.in_h;
    for (int e = threadIdx.x; e < row_elems; e += blockDim.x) {
      const int iw = iw0 + e / g.in_c, c = e % g.in_c;
      patch[pr * row_elems + e] =
          row_in && iw >= 0 && iw < g.in_w ? to_float(image[ih * g.xs[1] + iw * g.xs[2] + c]) : 0.0f;
    }
  }
  const int filter_elems = g.p.kernel[0] * g.p.kernel[1] * g.in_c * g.out_c;
  for (int e = threadIdx.x; e < filter_elems; e += blockDim.x) filter[e] = to_float(w[e]);
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    stem_conv_kernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias, const T* r, T* y,
                     const __grid_constant__ StemGeometry g) {
  extern __shared__ float4 shared[];  // the patch, then the filter (float4: 16-byte aligned)
  const DirectConvParams& p = g.p;
  int tile = blockIdx.x;
  const int tw = tile % g.tiles_w;
  tile /= g.tiles_w;
  const int th = tile % g.tiles_h, n = tile / g.tiles_h;
  const int oh0 = th * g.tile_h, ow0 = tw * kStemTileW;
  const int row_elems = g.patch_w * g.in_c;
  float* patch = reinterpret_cast<float*>(shared);
  float* filter = patch + (g.patch_h * row_elems + 3) / 4 * 4;
  stage_stem(x + n * g.xs[0], w, g, oh0 * p.strides[0] - p.pads[0], ow0 * p.strides[1] - p.pads[1], patch, filter);
  __syncthreads();
  const int m0 = (threadIdx.x % g.packs) * 8, slot = threadIdx.x / g.packs;
  constexpr int kGroups = kStemTileW / kStemPixels;  // column groups per tile row
  const int tr = slot / kGroups, tc = (slot % kGroups) * kStemPixels;
  const int oh = oh0 + tr;
  if (oh >= g.out_h || ow0 + tc >= g.out_w) return;
  float acc[kStemPixels][8];
#pragma unroll
  for (int o = 0; o < kStemPixels; ++o) load_bias<T, 8>(bias ? bias + m0 : nullptr, acc[o]);
  const int step = p.strides[1] * g.in_c;  // patch elements between neighbouring outputs
  for (int kh = 0; kh < p.kernel[0]; ++kh) {
    const float* prow = patch + (tr * p.strides[0] + kh * p.dilations[0]) * row_elems;
    for (int kw = 0; kw < p.kernel[1]; ++kw) {
      const float* px = prow + (tc * p.strides[1] + kw * p.dilations[1]) * g.in_c;
      const float* taps = filter + (kh * p.kernel[1] + kw) * g.in_c * g.out_c + m0;
      for (int c = 0; c < g.in_c; ++c) {
        const float4 f0 = *reinterpret_cast<const float4*>(taps + c * g.out_c);
        const float4 f1 = *reinterpret_cast<const float4*>(taps + c * g.out_c + 4);
        const float f[8] = {f0.x, f0.y, f0.z, f0.w, f1.x, f1.y, f1.z, f1.w};
#pragma unroll
        for (int o = 0; o < kStemPixels; ++o) {
          const float v = px[o * step + c];
#pragma unroll
          for (int m = 0; m < 8; ++m) acc[o][m] = fmaf(v, f[m], acc[o][m]);
        }
      }
    }
  }
#pragma unroll
  for (int o = 0; o < kStemPixels; ++o) {
    const int ow = ow0 + tc + o;
    if (ow >= g.out_w) break;
    finish_conv_pack<T, 8>(acc[o], r ? r + n * g.rs[0] + oh * g.rs[1] + ow * g.rs[2] + m0 : nullptr, p.act,
                           y + n * g.ys[0] + oh * g.ys[1] + ow * g.ys[2] + m0);
  }
}

// The stem kernel's shared memory (patch, padded to 16 bytes, then filter) for a tile of
// patch_h x patch_w input pixels.
int64_t stem_shared_bytes(int in_c, int out_c, const DirectConvParams& p, int patch_h, int patch_w) {
  const int64_t patch = (int64_t{patch_h} * patch_w * in_c + 3) / 4 * 4;
  return (patch + int64_t{p.kernel[0]} * p.kernel[1] * in_c * out_c) * int64_t{sizeof(float)};
}

// The stem kernel's tile for M output channels and the geometry: false when it does not
// apply (see stem_conv_applies).
bool stem_tile(int in_c, int out_c, const DirectConvParams& p, int* tile_h, int* patch_h, int* patch_w) {
  if (in_c < 1 || in_c > kStemMaxChannels || out_c % 8 != 0 || kThreads % (out_c / 8) != 0) return false;
  const int slots = kThreads / (out_c / 8);
  if (slots * kStemPixels < kStemTileW) return false;
  *tile_h = slots * kStemPixels / kStemTileW;
  *patch_h = (*tile_h - 1) * p.strides[0] + (p.kernel[0] - 1) * p.dilations[0] + 1;
  *patch_w = (kStemTileW - 1) * p.strides[1] + (p.kernel[1] - 1) * p.dilations[1] + 1;
  return stem_shared_bytes(in_c, out_c, p, *patch_h, *patch_w) <= kStemMaxSharedBytes;
}

// Runs the stem kernel, or returns false (nothing launched) when the views do not allow
// 8-channel packs of output.
template <typename T>
bool launch_stem(const ConstDeviceTensor& x, const void* filter, const void* bias, const ConstDeviceTensor* residual,
                 const DeviceTensor& y, const DirectGeometry& d, int v, cudaStream_t stream) {
  StemGeometry g{};
  if (v != 8 || !stem_tile(d.in_c, d.out_c, d.p, &g.tile_h, &g.patch_h, &g.patch_w)) return false;
  g.packs = d.out_c / 8;
  g.in_h = d.in_h, g.in_w = d.in_w, g.in_c = d.in_c, g.out_c = d.out_c;
  g.out_h = int(y.dims[2]), g.out_w = int(y.dims[3]);
  g.tiles_h = (g.out_h + g.tile_h - 1) / g.tile_h;
  g.tiles_w = (g.out_w + kStemTileW - 1) / kStemTileW;
  for (int k = 0; k < 3; ++k) g.xs[k] = d.xs[k], g.ys[k] = d.ys[k], g.rs[k] = d.rs[k];
  g.p = d.p;
  const int64_t blocks = y.dims[0] * int64_t{g.tiles_h} * g.tiles_w;
  if (blocks >= (int64_t{1} << 31)) return false;
  const auto shared = static_cast<size_t>(stem_shared_bytes(g.in_c, g.out_c, g.p, g.patch_h, g.patch_w));
  stem_conv_kernel<T><<<unsigned(blocks), kThreads, shared, stream>>>(
      static_cast<const T*>(x.data), static_cast<const T*>(filter), static_cast<const T*>(bias),
      residual ? static_cast<const T*>(residual->data) : nullptr, static_cast<T*>(y.data), g);
  return true;
}

}  // namespace

bool stem_conv_applies(int in_channels, int out_channels, const DirectConvParams& p) {
  int tile_h, patch_h, patch_w;
  return stem_tile(in_channels, out_channels, p, &tile_h, &patch_h, &patch_w);
}

cudaError_t launch_direct_conv_nhwc(const ConstDeviceTensor& x, const void* filter, const void* bias,
                                    const ConstDeviceTensor* residual, const DeviceTensor& y, const DirectConvParams& p,
                                    cudaStream_t stream) {
  if (x.rank != 4 || y.rank != 4 || x.dtype != y.dtype || x.strides[1] != 1 || y.strides[1] != 1 ||
      x.dims[0] != y.dims[0] || x.dims[1] <= 0 || y.dims[1] <= 0)
    return cudaErrorInvalidValue;
  if (residual && (residual->dtype != y.dtype || residual->rank != 4 || residual->strides[1] != 1))
    return cudaErrorInvalidValue;
  // Packs of output channels: y's (and the residual's) pixel strides and pointer, the
  // filter's row (M) and the bias decide the width.
  const void* pointers[4] = {y.data, filter, bias ? bias : filter, residual ? residual->data : y.data};
  const int64_t offsets[7] = {y.dims[1],
                              y.strides[0],
                              y.strides[2],
                              y.strides[3],
                              residual ? residual->strides[0] : 0,
                              residual ? residual->strides[2] : 0,
                              residual ? residual->strides[3] : 0};
  const int v = pack_width(static_cast<int>(element_size(y.dtype)), pointers, 4, offsets, 7);
  const int64_t total = y.dims[0] * (y.dims[1] / v) * y.dims[2] * y.dims[3];
  if (total >= (int64_t{1} << 32)) return cudaErrorInvalidValue;
  if (total == 0) return cudaSuccess;
  DirectGeometry g{uint32_t(y.dims[1] / v),
                   uint32_t(y.dims[3]),
                   uint32_t(y.dims[2]),
                   int(x.dims[2]),
                   int(x.dims[3]),
                   int(x.dims[1]),
                   int(y.dims[1]),
                   {x.strides[0], x.strides[2], x.strides[3]},
                   {y.strides[0], y.strides[2], y.strides[3]},
                   {0, 0, 0},
                   p};
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
    if constexpr (sizeof(T) == 2) {  // 8 channels are a 16-byte pack only for fp16/bf16
      if (p.stem && launch_stem<T>(x, filter, bias, residual, y, g, v, stream)) return;
    }
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
