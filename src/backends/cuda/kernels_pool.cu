// Pooling, LRN and softmax kernels (semantics: reference_pool.cc, reference_elementwise.cc).
//
// Windowed ops (max/average pool, LRN) on channels-last tensors run kernels_nhwc.cu's
// packed kernels; other layouts give each thread one output element, threads ordered by
// the output's memory order (coalesced writes, reads through the caches). Global
// average pooling and softmax are reductions and pick a thread mapping per layout.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cfloat>
#include <climits>
#include <utility>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"
#include "backends/cuda/kernels_nhwc.h"

namespace inferd::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 1 << 16;  // grid-stride loops cover the rest

unsigned grid_for(int64_t total, int threads = kThreads) {
  return static_cast<unsigned>(std::min<int64_t>((total + threads - 1) / threads, kMaxBlocks));
}

// Calls fn(T{}) for the storage type of y's dtype (x must share it); false otherwise.
template <typename Fn>
bool with_type(const ConstDeviceTensor& x, const DeviceTensor& y, Fn&& fn) {
  return x.dtype == y.dtype && with_float_type(y.dtype, std::forward<Fn>(fn));
}

// A loop nest as a kernel argument, for kOps operands.
template <int kOps>
struct NestArgs {
  int rank = 1;
  int64_t dims[kMaxDims] = {};
  int64_t strides[kOps][kMaxDims] = {};
};

template <int kOps>
NestArgs<kOps> nest_args(const LoopNest& nest) {
  NestArgs<kOps> a;
  a.rank = nest.rank;
  for (int d = 0; d < nest.rank; ++d) {
    a.dims[d] = nest.dims[d];
    for (int k = 0; k < kOps; ++k) a.strides[k][d] = nest.strides[k][d];
  }
  return a;
}

// Element offsets of linear index i of the nest in each operand.
template <int kOps, typename Index>
__device__ __forceinline__ void nest_offsets(const NestArgs<kOps>& a, Index i, int64_t (&off)[kOps]) {
#pragma unroll
  for (int k = 0; k < kOps; ++k) off[k] = 0;
#pragma unroll
  for (int d = kMaxDims - 1; d >= 0; --d) {
    if (d >= a.rank) continue;
    const Index dim = Index(a.dims[d]);
    const Index q = i / dim;
    const int64_t c = int64_t(i - q * dim);
    i = q;
#pragma unroll
    for (int k = 0; k < kOps; ++k) off[k] += c * a.strides[k][d];
  }
}

// ---- 2-D pooling ------------------------------------------------------------------------
// The nest runs over y with four operands: y's offset, x's offset of (n, c) (its H and W
// strides zeroed), and the output row and column (strides 1 along H or W only).
struct PoolArgs {
  NestArgs<4> nest;
  int64_t x_h_stride, x_w_stride;
  int in_h, in_w;
  Pool2dParams p;
};

template <typename T, bool kMax, typename Index>
__global__ void pool2d_kernel(const T* __restrict__ x, T* __restrict__ y, const __grid_constant__ PoolArgs a,
                              Index total) {
  const Pool2dParams& p = a.p;
  for (Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += Index(gridDim.x) * blockDim.x) {
    int64_t off[4];
    nest_offsets<4>(a.nest, i, off);
    const int h0 = int(off[2]) * p.strides[0] - p.pads[0], w0 = int(off[3]) * p.strides[1] - p.pads[1];
    float acc = kMax ? -INFINITY : 0.0f;
    int rows_in = 0, cols_in = 0, rows_padded = 0, cols_padded = 0;
    for (int kh = 0; kh < p.kernel[0]; ++kh) {
      const int ih = h0 + kh * p.dilations[0];
      rows_padded += ih >= -p.pads[0] && ih < a.in_h + p.pads[2];
      if (ih < 0 || ih >= a.in_h) continue;
      ++rows_in;
      for (int kw = 0; kw < p.kernel[1]; ++kw) {
        const int iw = w0 + kw * p.dilations[1];
        if (iw < 0 || iw >= a.in_w) continue;
        const float v = to_float(x[off[1] + ih * a.x_h_stride + iw * a.x_w_stride]);
        acc = kMax ? fmaxf(acc, v) : acc + v;
      }
    }
    if constexpr (!kMax) {
      // The window's taps form a rectangle, so both divisors are row count x column count.
      for (int kw = 0; kw < p.kernel[1]; ++kw) {
        const int iw = w0 + kw * p.dilations[1];
        cols_padded += iw >= -p.pads[1] && iw < a.in_w + p.pads[3];
        cols_in += iw >= 0 && iw < a.in_w;
      }
      const int divisor = p.count_include_pad ? rows_padded * cols_padded : rows_in * cols_in;
      acc = divisor > 0 ? acc / float(divisor) : 0.0f;
    }
    y[off[0]] = from_float<T>(acc);
  }
}

template <bool kMax>
cudaError_t launch_pool2d(const ConstDeviceTensor& x, const DeviceTensor& y, const Pool2dParams& p,
                          cudaStream_t stream) {
  if (x.rank != 4 || y.rank != 4 || x.dims[0] != y.dims[0] || x.dims[1] != y.dims[1]) return cudaErrorInvalidValue;
  const int64_t total = y.size();
  if (total <= 0) return cudaSuccess;
  if (const cudaError_t err = launch_pool2d_nhwc(x, y, p, kMax, stream); err != cudaErrorNotSupported) return err;
  const int64_t x_nc[kMaxDims] = {x.strides[0], x.strides[1], 0, 0};
  const int64_t row[kMaxDims] = {0, 0, 1, 0}, col[kMaxDims] = {0, 0, 0, 1};
  const int64_t* strides[4] = {y.strides, x_nc, row, col};
  PoolArgs args{nest_args<4>(make_loop_nest(4, y.dims, strides, 4)),
                x.strides[2],
                x.strides[3],
                int(x.dims[2]),
                int(x.dims[3]),
                p};
  const bool known = with_type(x, y, [&](auto tag) {
    using T = decltype(tag);
    const auto* src = static_cast<const T*>(x.data);
    auto* dst = static_cast<T*>(y.data);
    if (total <= int64_t{UINT32_MAX})
      pool2d_kernel<T, kMax, uint32_t><<<grid_for(total), kThreads, 0, stream>>>(src, dst, args, uint32_t(total));
    else
      pool2d_kernel<T, kMax, uint64_t><<<grid_for(total), kThreads, 0, stream>>>(src, dst, args, uint64_t(total));
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

// ---- global average pooling --------------------------------------------------------------
struct GapArgs {
  int64_t channels, plane, width;  // plane = H * W
  int64_t xs[4], ys[2];            // x strides N, C, H, W; y strides N, C
};

__device__ __forceinline__ int64_t gap_pixel(const GapArgs& a, int64_t s) {
  return (s / a.width) * a.xs[2] + (s % a.width) * a.xs[3];
}

// Channel-innermost layouts (NHWC): a 32 x 8 block; x runs over 32 neighbouring channels
// (coalesced), y over pixels; the 8 partial sums of a channel meet in shared memory.
template <typename T>
__global__ void gap_channels_kernel(const T* __restrict__ x, T* __restrict__ y, GapArgs a) {
  __shared__ float partial[8][33];
  const int64_t n = blockIdx.y, c = int64_t(blockIdx.x) * 32 + threadIdx.x;
  float acc = 0.0f;
  if (c < a.channels)
    for (int64_t s = threadIdx.y; s < a.plane; s += 8) acc += to_float(x[n * a.xs[0] + c * a.xs[1] + gap_pixel(a, s)]);
  partial[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y != 0 || c >= a.channels) return;
  float total = 0.0f;
  for (int r = 0; r < 8; ++r) total += partial[r][threadIdx.x];
  y[n * a.ys[0] + c * a.ys[1]] = from_float<T>(total / float(a.plane));
}

// Plane-contiguous layouts (NCHW): one warp per (n, c), lanes over the plane.
template <typename T>
__global__ void gap_planes_kernel(const T* __restrict__ x, T* __restrict__ y, GapArgs a, int64_t outputs) {
  const int64_t warp = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= outputs) return;
  const int64_t n = warp / a.channels, c = warp % a.channels;
  const T* base = x + n * a.xs[0] + c * a.xs[1];
  float acc = 0.0f;
  for (int64_t s = lane; s < a.plane; s += 32) acc += to_float(base[gap_pixel(a, s)]);
  for (int o = 16; o > 0; o /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, o);
  if (lane == 0) y[n * a.ys[0] + c * a.ys[1]] = from_float<T>(acc / float(a.plane));
}

// ---- LRN --------------------------------------------------------------------------------
// Nest operands: y, x, and the channel index (stride 1 along dim 1).
struct LrnArgs {
  NestArgs<3> nest;
  int64_t x_c_stride, channels;
  int below, above;
  LrnParams p;
};

template <typename T, typename Index>
__global__ void lrn_kernel(const T* __restrict__ x, T* __restrict__ y, const __grid_constant__ LrnArgs a, Index total) {
  for (Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += Index(gridDim.x) * blockDim.x) {
    int64_t off[3];
    nest_offsets<3>(a.nest, i, off);
    const int64_t c = off[2];
    const int64_t first = c - a.below < 0 ? 0 : c - a.below;
    const int64_t last = c + a.above > a.channels - 1 ? a.channels - 1 : c + a.above;
    float square_sum = 0.0f;
    for (int64_t j = first; j <= last; ++j) {
      const float v = to_float(x[off[1] + (j - c) * a.x_c_stride]);
      square_sum += v * v;
    }
    const float scale = powf(a.p.bias + a.p.alpha / float(a.p.size) * square_sum, a.p.beta);
    y[off[0]] = from_float<T>(to_float(x[off[1]]) / scale);
  }
}

// Caffe's within-channel LRN: the window is the size x size square centred on the pixel in
// its own channel (zero padded), alpha divided by size^2. Nest operands as the pools': y,
// x at (n, c), the output row and the output column.
struct LrnWithinArgs {
  NestArgs<4> nest;
  int64_t x_h_stride, x_w_stride;
  int in_h, in_w;
  LrnParams p;
};

template <typename T, typename Index>
__global__ void lrn_within_kernel(const T* __restrict__ x, T* __restrict__ y, const __grid_constant__ LrnWithinArgs a,
                                  Index total) {
  const int half = (a.p.size - 1) / 2;
  const float scaled_alpha = a.p.alpha / (float(a.p.size) * float(a.p.size));
  for (Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += Index(gridDim.x) * blockDim.x) {
    int64_t off[4];
    nest_offsets<4>(a.nest, i, off);
    const int h = int(off[2]), w = int(off[3]);
    float square_sum = 0.0f;
    for (int ih = max(h - half, 0); ih <= min(h + half, a.in_h - 1); ++ih)
      for (int iw = max(w - half, 0); iw <= min(w + half, a.in_w - 1); ++iw) {
        const float v = to_float(x[off[1] + ih * a.x_h_stride + iw * a.x_w_stride]);
        square_sum += v * v;
      }
    const float centre = to_float(x[off[1] + h * a.x_h_stride + w * a.x_w_stride]);
    y[off[0]] = from_float<T>(centre / powf(a.p.bias + scaled_alpha * square_sum, a.p.beta));
  }
}

cudaError_t launch_lrn_within_channel(const ConstDeviceTensor& x, const DeviceTensor& y, const LrnParams& p,
                                      cudaStream_t stream) {
  if (x.rank != 4 || p.size % 2 == 0 || x.dims[2] > INT_MAX || x.dims[3] > INT_MAX) return cudaErrorInvalidValue;
  const int64_t total = y.size();
  const int64_t x_nc[kMaxDims] = {x.strides[0], x.strides[1], 0, 0};
  const int64_t row[kMaxDims] = {0, 0, 1, 0}, col[kMaxDims] = {0, 0, 0, 1};
  const int64_t* strides[4] = {y.strides, x_nc, row, col};
  LrnWithinArgs args{nest_args<4>(make_loop_nest(4, y.dims, strides, 4)), x.strides[2], x.strides[3], int(x.dims[2]),
                     int(x.dims[3]), p};
  const bool known = with_type(x, y, [&](auto tag) {
    using T = decltype(tag);
    const auto* src = static_cast<const T*>(x.data);
    auto* dst = static_cast<T*>(y.data);
    if (total <= int64_t{UINT32_MAX})
      lrn_within_kernel<T, uint32_t><<<grid_for(total), kThreads, 0, stream>>>(src, dst, args, uint32_t(total));
    else
      lrn_within_kernel<T, uint64_t><<<grid_for(total), kThreads, 0, stream>>>(src, dst, args, uint64_t(total));
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

// ---- softmax ------------------------------------------------------------------------------
// Rows are the outer nest (operands y, x); elements of a row the inner nest (y, x).
struct SoftmaxArgs {
  NestArgs<2> rows, row;
  int64_t row_count, row_length;
};

__device__ __forceinline__ void row_offsets(const NestArgs<2>& r, int64_t j, int64_t (&off)[2]) {
  if (r.rank == 1) {  // the usual case: the row is one strided run
    off[0] = j * r.strides[0][0];
    off[1] = j * r.strides[1][0];
  } else {
    nest_offsets<2>(r, uint64_t(j), off);
  }
}

// Reduces v over the block (max or sum); every thread gets the result.
template <bool kMax>
__device__ float block_reduce(float v, float* scratch) {
  for (int o = 16; o > 0; o /= 2) {
    const float w = __shfl_xor_sync(0xffffffffu, v, o);
    v = kMax ? fmaxf(v, w) : v + w;
  }
  const int warps = blockDim.x / 32, warp = threadIdx.x / 32;
  __syncthreads();  // scratch may still be read by a previous reduction
  if (threadIdx.x % 32 == 0) scratch[warp] = v;
  __syncthreads();
  v = scratch[0];
  for (int w = 1; w < warps; ++w) v = kMax ? fmaxf(v, scratch[w]) : v + scratch[w];
  return v;
}

// One block per row: max, sum of exp(x - max), then the normalised values.
template <typename T>
__global__ void softmax_kernel(const T* __restrict__ x, T* __restrict__ y, const __grid_constant__ SoftmaxArgs a) {
  __shared__ float scratch[32];
  for (int64_t r = blockIdx.x; r < a.row_count; r += gridDim.x) {
    int64_t base[2];
    nest_offsets<2>(a.rows, uint64_t(r), base);
    const T* xs = x + base[1];
    T* ys = y + base[0];
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < a.row_length; j += blockDim.x) {
      int64_t off[2];
      row_offsets(a.row, j, off);
      m = fmaxf(m, to_float(xs[off[1]]));
    }
    m = block_reduce<true>(m, scratch);
    float sum = 0.0f;
    for (int64_t j = threadIdx.x; j < a.row_length; j += blockDim.x) {
      int64_t off[2];
      row_offsets(a.row, j, off);
      sum += expf(to_float(xs[off[1]]) - m);
    }
    const float inv = 1.0f / block_reduce<false>(sum, scratch);
    for (int64_t j = threadIdx.x; j < a.row_length; j += blockDim.x) {
      int64_t off[2];
      row_offsets(a.row, j, off);
      ys[off[0]] = from_float<T>(expf(to_float(xs[off[1]]) - m) * inv);
    }
  }
}

}  // namespace

cudaError_t launch_max_pool2d(const ConstDeviceTensor& x, const DeviceTensor& y, const Pool2dParams& p,
                              cudaStream_t stream) {
  return launch_pool2d<true>(x, y, p, stream);
}

cudaError_t launch_avg_pool2d(const ConstDeviceTensor& x, const DeviceTensor& y, const Pool2dParams& p,
                              cudaStream_t stream) {
  return launch_pool2d<false>(x, y, p, stream);
}

cudaError_t launch_global_avg_pool(const ConstDeviceTensor& x, const DeviceTensor& y, cudaStream_t stream) {
  if (x.rank != 4 || y.rank != 4 || x.dims[0] != y.dims[0] || x.dims[1] != y.dims[1] || y.dims[2] != 1 ||
      y.dims[3] != 1)
    return cudaErrorInvalidValue;
  const int64_t outputs = y.dims[0] * y.dims[1];
  if (outputs <= 0) return cudaSuccess;
  if (x.dims[0] > 65535) return cudaErrorInvalidValue;  // grid.y of the channel kernel
  GapArgs a{x.dims[1],
            x.dims[2] * x.dims[3],
            std::max<int64_t>(x.dims[3], 1),
            {x.strides[0], x.strides[1], x.strides[2], x.strides[3]},
            {y.strides[0], y.strides[1]}};
  // Channels are the fastest index when their stride is below both spatial ones.
  const bool channels_inner = x.strides[1] < x.strides[2] && x.strides[1] < x.strides[3];
  const bool known = with_type(x, y, [&](auto tag) {
    using T = decltype(tag);
    const auto* src = static_cast<const T*>(x.data);
    auto* dst = static_cast<T*>(y.data);
    if (channels_inner) {
      const dim3 grid(static_cast<unsigned>((x.dims[1] + 31) / 32), static_cast<unsigned>(x.dims[0]));
      gap_channels_kernel<T><<<grid, dim3(32, 8), 0, stream>>>(src, dst, a);
    } else {
      gap_planes_kernel<T><<<static_cast<unsigned>((outputs * 32 + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
          src, dst, a, outputs);
    }
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_lrn(const ConstDeviceTensor& x, const DeviceTensor& y, const LrnParams& p, cudaStream_t stream) {
  if (x.rank != y.rank || x.rank < 2 || p.size < 1) return cudaErrorInvalidValue;
  for (int d = 0; d < x.rank; ++d)
    if (x.dims[d] != y.dims[d]) return cudaErrorInvalidValue;
  const int64_t total = y.size();
  if (total <= 0) return cudaSuccess;
  if (p.within_channel) return launch_lrn_within_channel(x, y, p, stream);
  if (const cudaError_t err = launch_lrn_nhwc(x, y, p, stream); err != cudaErrorNotSupported) return err;
  const int64_t channel[kMaxDims] = {0, 1};
  const int64_t* strides[3] = {y.strides, x.strides, channel};
  LrnArgs args{nest_args<3>(make_loop_nest(y.rank, y.dims, strides, 3)),
               x.strides[1],
               x.dims[1],
               (p.size - 1) / 2,
               (p.size - 1) - (p.size - 1) / 2,
               p};
  const bool known = with_type(x, y, [&](auto tag) {
    using T = decltype(tag);
    const auto* src = static_cast<const T*>(x.data);
    auto* dst = static_cast<T*>(y.data);
    if (total <= int64_t{UINT32_MAX})
      lrn_kernel<T, uint32_t><<<grid_for(total), kThreads, 0, stream>>>(src, dst, args, uint32_t(total));
    else
      lrn_kernel<T, uint64_t><<<grid_for(total), kThreads, 0, stream>>>(src, dst, args, uint64_t(total));
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_softmax(const ConstDeviceTensor& x, const DeviceTensor& y, int axis, bool legacy_2d,
                           cudaStream_t stream) {
  if (x.rank != y.rank || axis < 0 || axis >= x.rank) return cudaErrorInvalidValue;
  for (int d = 0; d < x.rank; ++d)
    if (x.dims[d] != y.dims[d]) return cudaErrorInvalidValue;
  if (y.size() <= 0) return cudaSuccess;
  // Split the dims: [axis, last) form a row, the others enumerate rows.
  const int last = legacy_2d ? x.rank : axis + 1;
  int64_t outer[kMaxDims], inner[kMaxDims];
  for (int d = 0; d < x.rank; ++d) {
    const bool in_row = d >= axis && d < last;
    outer[d] = in_row ? 1 : x.dims[d];
    inner[d] = in_row ? x.dims[d] : 1;
  }
  const int64_t* strides[2] = {y.strides, x.strides};
  SoftmaxArgs args{nest_args<2>(make_loop_nest(x.rank, outer, strides, 2)),
                   nest_args<2>(make_loop_nest(x.rank, inner, strides, 2)), 1, 1};
  for (int d = 0; d < x.rank; ++d) (d >= axis && d < last ? args.row_length : args.row_count) *= x.dims[d];
  // Enough threads for the row (a warp at least), at most 256: rows of 1000 classes take
  // 4 elements per thread, and a batch gives one block per row.
  const int threads = static_cast<int>(std::min<int64_t>(256, (args.row_length + 31) / 32 * 32));
  const unsigned grid = static_cast<unsigned>(std::min<int64_t>(args.row_count, kMaxBlocks));
  const bool known = with_type(x, y, [&](auto tag) {
    using T = decltype(tag);
    softmax_kernel<T><<<grid, threads, 0, stream>>>(static_cast<const T*>(x.data), static_cast<T*>(y.data), args);
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace inferd::cuda
