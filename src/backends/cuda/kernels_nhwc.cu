// Channels-last windowed kernels: 2-D max/average pooling, LRN across channels and depthwise
// convolution (+ bias + residual + activation), for tensors whose channel stride is 1 (NHWC,
// or a channel slice of a wider NHWC buffer).
//
// Each thread computes V neighbouring channels of one output pixel and moves them as one
// pack (device_math.cuh): 8 fp16 / bf16 or 4 fp32 channels in a 16-byte access when the
// channel count, every pixel stride and the pointers allow it, narrower packs otherwise.
// Threads are ordered channel pack fastest, then output column, row and image, so a warp
// reads and writes whole runs of pixels' channels. Index arithmetic is 32-bit (the caller
// checks that the thread count fits); offsets are 64-bit. Semantics: reference_pool.cc,
// reference_elementwise.cc (LRN), reference_conv.cc.
#include <algorithm>
#include <cmath>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"
#include "backends/cuda/kernels_nhwc.h"
#include "backends/cuda/window.cuh"

namespace inferd::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 1 << 16;  // grid-stride loops cover the rest

unsigned grid_for(int64_t total) {
  return static_cast<unsigned>(std::min<int64_t>((total + kThreads - 1) / kThreads, kMaxBlocks));
}

// Where thread index i lands: image n, output row oh and column ow, first channel c.
struct PixelGrid {
  uint32_t packs, width, height;       // channel packs per pixel, output W, output H
  int64_t x_strides[3], y_strides[3];  // N, H, W strides in elements (the channel stride is 1)
};

struct PixelIndex {
  uint32_t n, oh, ow, c;
};

template <int V>
__device__ __forceinline__ PixelIndex pixel_of(const PixelGrid& g, uint32_t i) {
  PixelIndex p;
  p.c = (i % g.packs) * V;
  i /= g.packs;
  p.ow = i % g.width;
  i /= g.width;
  p.oh = i % g.height;
  p.n = i / g.height;
  return p;
}

// The grid of a channels-last op, or false when x or y is not channels-last, the thread
// count needs 64-bit indices, or the dims disagree.
bool make_grid(const ConstDeviceTensor& x, const DeviceTensor& y, int v, PixelGrid* g) {
  if (x.rank != 4 || y.rank != 4 || x.strides[1] != 1 || y.strides[1] != 1 || x.dims[0] != y.dims[0]) return false;
  const int64_t threads = y.dims[0] * (y.dims[1] / v) * y.dims[2] * y.dims[3];
  if (threads >= (int64_t{1} << 32) || y.dims[1] % v != 0) return false;
  g->packs = static_cast<uint32_t>(y.dims[1] / v);
  g->width = static_cast<uint32_t>(y.dims[3]);
  g->height = static_cast<uint32_t>(y.dims[2]);
  const int dims[3] = {0, 2, 3};
  for (int k = 0; k < 3; ++k) {
    g->x_strides[k] = x.strides[dims[k]];
    g->y_strides[k] = y.strides[dims[k]];
  }
  return true;
}

int64_t grid_threads(const PixelGrid& g, int64_t batch) {
  return batch * g.packs * g.width * g.height;
}

// The widest pack that x, y (and more pointers/strides) allow: channels, N/H/W strides.
int channels_last_width(const ConstDeviceTensor& x, const DeviceTensor& y, const void* extra = nullptr,
                        const int64_t* extra_strides = nullptr) {
  const void* pointers[3] = {x.data, y.data, extra ? extra : y.data};
  int64_t offsets[10] = {
      y.dims[1], x.strides[0], x.strides[2], x.strides[3], y.strides[0], y.strides[2], y.strides[3], 0, 0, 0};
  if (extra_strides) {
    offsets[7] = extra_strides[0];
    offsets[8] = extra_strides[2];
    offsets[9] = extra_strides[3];
  }
  return pack_width(static_cast<int>(element_size(y.dtype)), pointers, 3, offsets, 10);
}

// ---- pooling ------------------------------------------------------------------------------
struct PoolGeometry {
  int in_h, in_w;
  Pool2dParams p;
};

// The window's rows (or columns) inside the input and inside the padded input, for the
// average's divisor: the taps form a rectangle, so the count is rows x columns.
__device__ __forceinline__ void count_taps(int start, int kernel, int dilation, int size, int pad_lo, int pad_hi,
                                           int* inside, int* padded) {
  *inside = *padded = 0;
  for (int k = 0; k < kernel; ++k) {
    const int i = start + k * dilation;
    *padded += i >= -pad_lo && i < size + pad_hi;
    *inside += i >= 0 && i < size;
  }
}

template <typename T, int V, bool kMax>
__global__ void pool_nhwc_kernel(const T* __restrict__ x, T* __restrict__ y, const __grid_constant__ PixelGrid g,
                                 const __grid_constant__ PoolGeometry geo, uint32_t total) {
  const Pool2dParams& p = geo.p;
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    const PixelIndex at = pixel_of<V>(g, i);
    const int h0 = int(at.oh) * p.strides[0] - p.pads[0], w0 = int(at.ow) * p.strides[1] - p.pads[1];
    const T* base = x + at.n * g.x_strides[0] + at.c;
    float acc[V];
#pragma unroll
    for (int k = 0; k < V; ++k) acc[k] = kMax ? -INFINITY : 0.0f;
    for_each_tap(p.kernel, p.dilations, h0, w0, geo.in_h, geo.in_w, [&](int, int, int ih, int iw) {
      float v[V];
      load_floats<T, V>(base + ih * g.x_strides[1] + iw * g.x_strides[2], v);
#pragma unroll
      for (int k = 0; k < V; ++k) acc[k] = kMax ? fmaxf(acc[k], v[k]) : acc[k] + v[k];
    });
    if constexpr (!kMax) {
      int rows_in, rows_padded, cols_in, cols_padded;
      count_taps(h0, p.kernel[0], p.dilations[0], geo.in_h, p.pads[0], p.pads[2], &rows_in, &rows_padded);
      count_taps(w0, p.kernel[1], p.dilations[1], geo.in_w, p.pads[1], p.pads[3], &cols_in, &cols_padded);
      const int divisor = p.count_include_pad ? rows_padded * cols_padded : rows_in * cols_in;
#pragma unroll
      for (int k = 0; k < V; ++k) acc[k] = divisor > 0 ? acc[k] / float(divisor) : 0.0f;
    }
    store_floats<T, V>(y + at.n * g.y_strides[0] + at.oh * g.y_strides[1] + at.ow * g.y_strides[2] + at.c, acc);
  }
}

// ---- LRN ----------------------------------------------------------------------------------
struct LrnGeometry {
  int channels, below, above;
  LrnParams p;
};

// The square sum runs as a sliding window over the thread's V channels: the window of the
// first is summed, then each step adds the channel entering and subtracts the one leaving.
template <typename T, int V>
__global__ void lrn_nhwc_kernel(const T* __restrict__ x, T* __restrict__ y, const __grid_constant__ PixelGrid g,
                                const __grid_constant__ LrnGeometry geo, uint32_t total) {
  const float alpha_over_size = geo.p.alpha / float(geo.p.size);
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    const PixelIndex at = pixel_of<V>(g, i);
    const T* xs = x + at.n * g.x_strides[0] + at.oh * g.x_strides[1] + at.ow * g.x_strides[2];
    const int c0 = int(at.c);
    float sum = 0.0f;
    for (int j = max(0, c0 - geo.below); j <= min(geo.channels - 1, c0 + geo.above); ++j) {
      const float v = to_float(xs[j]);
      sum += v * v;
    }
    float own[V], out[V];
    load_floats<T, V>(xs + c0, own);
#pragma unroll
    for (int k = 0; k < V; ++k) {
      const float scale = geo.p.bias + alpha_over_size * fmaxf(sum, 0.0f);  // fmaxf: the sliding sum's rounding
      out[k] = own[k] * __powf(scale, -geo.p.beta);
      const int enter = c0 + k + 1 + geo.above, leave = c0 + k - geo.below;
      if (enter < geo.channels) {
        const float v = to_float(xs[enter]);
        sum += v * v;
      }
      if (leave >= 0) {
        const float v = to_float(xs[leave]);
        sum -= v * v;
      }
    }
    store_floats<T, V>(y + at.n * g.y_strides[0] + at.oh * g.y_strides[1] + at.ow * g.y_strides[2] + c0, out);
  }
}

// ---- depthwise convolution ------------------------------------------------------------------
struct DepthwiseGeometry {
  int in_h, in_w;
  int64_t r_strides[3];  // residual N, H, W strides (channel stride 1)
  DepthwiseConvParams p;
};

template <typename T, int V>
__global__ void depthwise_nhwc_kernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                                      const T* r, T* y, const __grid_constant__ PixelGrid g,
                                      const __grid_constant__ DepthwiseGeometry geo, uint32_t total) {
  const DepthwiseConvParams& p = geo.p;
  const int64_t w_row = int64_t(p.kernel[1]) * p.channels;  // filter [kh][kw][C]
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    const PixelIndex at = pixel_of<V>(g, i);
    const int h0 = int(at.oh) * p.strides[0] - p.pads[0], w0 = int(at.ow) * p.strides[1] - p.pads[1];
    const T* base = x + at.n * g.x_strides[0] + at.c;
    float acc[V];
    load_bias<T, V>(bias ? bias + at.c : nullptr, acc);
    for_each_tap(p.kernel, p.dilations, h0, w0, geo.in_h, geo.in_w, [&](int kh, int kw, int ih, int iw) {
      float v[V], f[V];
      load_floats<T, V>(base + ih * g.x_strides[1] + iw * g.x_strides[2], v);
      load_floats<T, V>(w + kh * w_row + int64_t(kw) * p.channels + at.c, f);
#pragma unroll
      for (int k = 0; k < V; ++k) acc[k] = fmaf(v[k], f[k], acc[k]);
    });
    const T* res =
        r ? r + at.n * geo.r_strides[0] + at.oh * geo.r_strides[1] + at.ow * geo.r_strides[2] + at.c : nullptr;
    finish_conv_pack<T, V>(acc, res, p.act,
                           y + at.n * g.y_strides[0] + at.oh * g.y_strides[1] + at.ow * g.y_strides[2] + at.c);
  }
}

// ---- depthwise 3x3, a strip of output columns per thread ----------------------------------
// Neighbouring outputs of a row share input columns: a thread computing TW of them loads
// each input column of a window row once ((TW - 1) * S + 3 packs instead of 3 * TW) and each
// filter row once, and the loads of a row are independent of each other, so they are in
// flight together. The per-pixel kernel above issued ~4x the instructions per output and
// ran MobileNetV2's depthwise layers at ~1 TB/s on the H200 (2026-12-04 profile).
struct StripGrid {
  uint32_t packs, strips, height;  // 8-channel packs per pixel, column strips per row, output H
  int out_w, in_h, in_w, pad_h, pad_w, channels;
  int64_t x_strides[3], y_strides[3], r_strides[3];  // N, H, W (the channel stride is 1)
  ir::Activation act;
};

template <typename T>
__device__ __forceinline__ Pack<T, 8> zero_pack() {
  Pack<T, 8> z;
#pragma unroll
  for (int k = 0; k < 8; ++k) z.v[k] = from_float<T>(0.0f);
  return z;
}

template <typename T, int S, int TW>
__global__ void __launch_bounds__(kThreads)
    depthwise3x3_strip_kernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias, const T* r,
                              T* y, const __grid_constant__ StripGrid g, uint32_t total) {
  constexpr int kInCols = (TW - 1) * S + 3;
  using P = Pack<T, 8>;
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest = i;
    const int c = int(rest % g.packs) * 8;
    rest /= g.packs;
    const int ow0 = int(rest % g.strips) * TW;
    rest /= g.strips;
    const int oh = int(rest % g.height);
    const uint32_t n = rest / g.height;
    const int h0 = oh * S - g.pad_h, w0 = ow0 * S - g.pad_w;
    float acc[TW][8];
    float b[8];
    load_bias<T, 8>(bias ? bias + c : nullptr, b);
#pragma unroll
    for (int j = 0; j < TW; ++j)
#pragma unroll
      for (int k = 0; k < 8; ++k) acc[j][k] = b[k];
    const T* xn = x + n * g.x_strides[0] + c;
#pragma unroll
    for (int kh = 0; kh < 3; ++kh) {
      const int ih = h0 + kh;
      if (ih < 0 || ih >= g.in_h) continue;
      const T* row = xn + ih * g.x_strides[1];
      P in[kInCols], f[3];
#pragma unroll
      for (int k = 0; k < kInCols; ++k) {
        const int iw = w0 + k;
        in[k] = iw >= 0 && iw < g.in_w ? *reinterpret_cast<const P*>(row + iw * g.x_strides[2]) : zero_pack<T>();
      }
#pragma unroll
      for (int kw = 0; kw < 3; ++kw) f[kw] = *reinterpret_cast<const P*>(w + (kh * 3 + kw) * g.channels + c);
#pragma unroll
      for (int j = 0; j < TW; ++j)
#pragma unroll
        for (int kw = 0; kw < 3; ++kw)
#pragma unroll
          for (int k = 0; k < 8; ++k) acc[j][k] = fmaf(to_float(in[j * S + kw].v[k]), to_float(f[kw].v[k]), acc[j][k]);
    }
#pragma unroll
    for (int j = 0; j < TW; ++j) {
      const int ow = ow0 + j;
      if (ow >= g.out_w) break;
      const T* res = r ? r + n * g.r_strides[0] + oh * g.r_strides[1] + ow * g.r_strides[2] + c : nullptr;
      finish_conv_pack<T, 8>(acc[j], res, g.act,
                             y + n * g.y_strides[0] + oh * g.y_strides[1] + ow * g.y_strides[2] + c);
    }
  }
}

// ---- channel padding ------------------------------------------------------------------------
struct PadGeometry {
  uint32_t packs, width, height;  // 8-channel packs per pixel, W, H
  int channels;                   // x's
  int64_t x_strides[4];           // N, C, H, W
};

template <typename T>
__global__ void pad_channels_kernel(const T* __restrict__ x, T* __restrict__ y, const __grid_constant__ PadGeometry g,
                                    uint32_t total) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest = i;
    const int c0 = int(rest % g.packs) * 8;
    rest /= g.packs;
    const uint32_t w = rest % g.width;
    rest /= g.width;
    const uint32_t h = rest % g.height, n = rest / g.height;
    const T* src = x + n * g.x_strides[0] + h * g.x_strides[2] + w * g.x_strides[3];
    Pack<T, 8> out;
#pragma unroll
    for (int k = 0; k < 8; ++k) out.v[k] = c0 + k < g.channels ? src[(c0 + k) * g.x_strides[1]] : from_float<T>(0.0f);
    reinterpret_cast<Pack<T, 8>*>(y)[i] = out;  // y is packed: thread i writes pack i
  }
}

}  // namespace

cudaError_t launch_pad_channels_nhwc(const ConstDeviceTensor& x, void* y, int64_t channels, cudaStream_t stream) {
  if (x.rank != 4 || channels % 8 != 0 || channels < x.dims[1] || reinterpret_cast<uintptr_t>(y) % 16 != 0)
    return cudaErrorInvalidValue;
  const int64_t total = x.dims[0] * (channels / 8) * x.dims[2] * x.dims[3];
  if (total >= (int64_t{1} << 32)) return cudaErrorInvalidValue;
  if (total == 0) return cudaSuccess;
  const PadGeometry g{uint32_t(channels / 8),
                      uint32_t(x.dims[3]),
                      uint32_t(x.dims[2]),
                      int(x.dims[1]),
                      {x.strides[0], x.strides[1], x.strides[2], x.strides[3]}};
  bool known = false;
  if (element_size(x.dtype) == 2) {  // a pack of 8 is 16 bytes
    known = with_float_type(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      pad_channels_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(static_cast<const T*>(x.data),
                                                                       static_cast<T*>(y), g, uint32_t(total));
    });
  }
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_pool2d_nhwc(const ConstDeviceTensor& x, const DeviceTensor& y, const Pool2dParams& p, bool max,
                               cudaStream_t stream) {
  if (x.dtype != y.dtype || x.dims[1] != y.dims[1]) return cudaErrorNotSupported;
  const int v = channels_last_width(x, y);
  PixelGrid g;
  if (!make_grid(x, y, v, &g)) return cudaErrorNotSupported;
  const int64_t total = grid_threads(g, y.dims[0]);
  if (total == 0) return cudaSuccess;
  const PoolGeometry geo{int(x.dims[2]), int(x.dims[3]), p};
  const bool known = with_float_type(y.dtype, [&](auto tag) {
    using T = decltype(tag);
    with_pack_width(v, [&](auto width) {
      constexpr int V = decltype(width)::value;
      const auto* src = static_cast<const T*>(x.data);
      auto* dst = static_cast<T*>(y.data);
      if (max)
        pool_nhwc_kernel<T, V, true><<<grid_for(total), kThreads, 0, stream>>>(src, dst, g, geo, uint32_t(total));
      else
        pool_nhwc_kernel<T, V, false><<<grid_for(total), kThreads, 0, stream>>>(src, dst, g, geo, uint32_t(total));
    });
  });
  return known ? cudaGetLastError() : cudaErrorNotSupported;
}

cudaError_t launch_lrn_nhwc(const ConstDeviceTensor& x, const DeviceTensor& y, const LrnParams& p,
                            cudaStream_t stream) {
  if (x.dtype != y.dtype || x.rank != 4 || y.rank != 4 || p.size < 1) return cudaErrorNotSupported;
  for (int d = 0; d < 4; ++d)
    if (x.dims[d] != y.dims[d]) return cudaErrorNotSupported;
  const int v = channels_last_width(x, y);
  PixelGrid g;
  if (!make_grid(x, y, v, &g)) return cudaErrorNotSupported;
  const int64_t total = grid_threads(g, y.dims[0]);
  if (total == 0) return cudaSuccess;
  const LrnGeometry geo{int(x.dims[1]), (p.size - 1) / 2, (p.size - 1) - (p.size - 1) / 2, p};
  const bool known = with_float_type(y.dtype, [&](auto tag) {
    using T = decltype(tag);
    with_pack_width(v, [&](auto width) {
      constexpr int V = decltype(width)::value;
      lrn_nhwc_kernel<T, V><<<grid_for(total), kThreads, 0, stream>>>(static_cast<const T*>(x.data),
                                                                      static_cast<T*>(y.data), g, geo, uint32_t(total));
    });
  });
  return known ? cudaGetLastError() : cudaErrorNotSupported;
}

namespace {

// Whether the strip kernel runs p on views of pack width v (see DepthwiseConvParams).
bool strip_applies(const DepthwiseConvParams& p, const DeviceTensor& y, int v) {
  return element_size(y.dtype) == 2 && v == 8 && p.kernel[0] == 3 && p.kernel[1] == 3 && p.dilations[0] == 1 &&
         p.dilations[1] == 1 && p.strides[0] == p.strides[1] && (p.strides[0] == 1 || p.strides[0] == 2);
}

cudaError_t launch_depthwise_strip(const ConstDeviceTensor& x, const void* filter, const void* bias,
                                   const ConstDeviceTensor* residual, const DeviceTensor& y,
                                   const DepthwiseConvParams& p, cudaStream_t stream) {
  StripGrid g{};
  g.packs = uint32_t(p.channels / 8);
  g.strips = uint32_t((y.dims[3] + p.strip_columns - 1) / p.strip_columns);
  g.height = uint32_t(y.dims[2]);
  g.out_w = int(y.dims[3]);
  g.in_h = int(x.dims[2]);
  g.in_w = int(x.dims[3]);
  g.pad_h = p.pads[0];
  g.pad_w = p.pads[1];
  g.channels = p.channels;
  const int dims[3] = {0, 2, 3};
  for (int k = 0; k < 3; ++k) {
    g.x_strides[k] = x.strides[dims[k]];
    g.y_strides[k] = y.strides[dims[k]];
    g.r_strides[k] = residual ? residual->strides[dims[k]] : 0;
  }
  g.act = p.act;
  const int64_t total = y.dims[0] * int64_t{g.height} * g.strips * g.packs;
  if (total >= (int64_t{1} << 32)) return cudaErrorInvalidValue;
  if (total == 0) return cudaSuccess;
  const bool known = with_float_type(y.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (sizeof(T) == 2) {
      const auto* xs = static_cast<const T*>(x.data);
      const auto* ws = static_cast<const T*>(filter);
      const auto* bs = static_cast<const T*>(bias);
      const T* rs = residual ? static_cast<const T*>(residual->data) : nullptr;
      auto* ys = static_cast<T*>(y.data);
      const unsigned grid = grid_for(total);
      const bool wide = p.strip_columns == 4;
      if (p.strides[0] == 1 && wide)
        depthwise3x3_strip_kernel<T, 1, 4><<<grid, kThreads, 0, stream>>>(xs, ws, bs, rs, ys, g, uint32_t(total));
      else if (p.strides[0] == 1)
        depthwise3x3_strip_kernel<T, 1, 2><<<grid, kThreads, 0, stream>>>(xs, ws, bs, rs, ys, g, uint32_t(total));
      else if (wide)
        depthwise3x3_strip_kernel<T, 2, 4><<<grid, kThreads, 0, stream>>>(xs, ws, bs, rs, ys, g, uint32_t(total));
      else
        depthwise3x3_strip_kernel<T, 2, 2><<<grid, kThreads, 0, stream>>>(xs, ws, bs, rs, ys, g, uint32_t(total));
    }
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace

cudaError_t launch_depthwise_conv_nhwc(const ConstDeviceTensor& x, const void* filter, const void* bias,
                                       const ConstDeviceTensor* residual, const DeviceTensor& y,
                                       const DepthwiseConvParams& p, cudaStream_t stream) {
  if (x.dtype != y.dtype || x.dims[1] != p.channels || y.dims[1] != p.channels) return cudaErrorInvalidValue;
  if (p.strip_columns != 0 && p.strip_columns != 2 && p.strip_columns != 4) return cudaErrorInvalidValue;
  if (residual && (residual->dtype != y.dtype || residual->rank != 4 || residual->strides[1] != 1))
    return cudaErrorInvalidValue;
  // The filter and bias are packed [kh][kw][C] and [C]: the channel count aligns them.
  const void* extra = residual ? residual->data : (bias ? bias : filter);
  int v = channels_last_width(x, y, extra, residual ? residual->strides : nullptr);
  const void* pointers[2] = {filter, bias ? bias : filter};
  v = std::min(v, pack_width(static_cast<int>(element_size(y.dtype)), pointers, 2, nullptr, 0));
  PixelGrid g;
  if (!make_grid(x, y, v, &g)) return cudaErrorInvalidValue;
  if (p.strip_columns != 0 && strip_applies(p, y, v))
    return launch_depthwise_strip(x, filter, bias, residual, y, p, stream);
  const int64_t total = grid_threads(g, y.dims[0]);
  if (total == 0) return cudaSuccess;
  DepthwiseGeometry geo{int(x.dims[2]), int(x.dims[3]), {0, 0, 0}, p};
  if (residual) {
    geo.r_strides[0] = residual->strides[0];
    geo.r_strides[1] = residual->strides[2];
    geo.r_strides[2] = residual->strides[3];
  }
  const bool known = with_float_type(y.dtype, [&](auto tag) {
    using T = decltype(tag);
    with_pack_width(v, [&](auto width) {
      constexpr int V = decltype(width)::value;
      depthwise_nhwc_kernel<T, V><<<grid_for(total), kThreads, 0, stream>>>(
          static_cast<const T*>(x.data), static_cast<const T*>(filter), static_cast<const T*>(bias),
          residual ? static_cast<const T*>(residual->data) : nullptr, static_cast<T*>(y.data), g, geo, uint32_t(total));
    });
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace inferd::cuda
