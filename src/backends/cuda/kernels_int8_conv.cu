// The own INT8 convolution (kernels_int8_conv.h): an implicit GEMM whose rows are output
// pixels (m = n, oh, ow), columns output channels, and reduction the window's (r, s, c) in
// the filter's KRSC order, over int8 levels on the tensor cores.
//
// Per block, a tile of 128 pixels x BN channels (BN 64 or 128) with 4 warps of 64 x BN/2.
// The reduction advances 64 levels at a time through a 3-stage cp.async pipeline: each
// thread copies 16-byte chunks of input rows (one pixel's window position, 16 channels) and
// filter rows into shared memory while the warps multiply the stage before; ldmatrix loads
// the fragments of mma.sync m16n8k32 (s8 or u8 x s8 -> s32). Whatever lies outside the
// input (its padding, unless the quantize kernel wrote it out), past the last pixel or
// output channel of the tile, or past the reduction's end is copied as zeros: the level of
// 0. 16 input channels per chunk is why channels must be a multiple of 16: a chunk never
// straddles two window positions.
//
// The epilogue stages the block's scaled sums in shared memory (over the pipeline's
// buffers) so that each thread then writes 8 consecutive channels of one pixel: 16-byte
// stores, coalesced along the output's channels, with the bias, the residual, the activation
// and the output's grid (a rounded value, or its level stored as int8 / uint8) applied on
// the way.
#include <atomic>
#include <type_traits>

#include "backends/cuda/device_math.cuh"
#include "backends/cuda/kernels_int8_conv.h"

namespace inferd::cuda {
namespace {

constexpr int kBlockM = 128, kBlockK = 64, kStages = 3, kThreads = 128;

struct Geometry {
  int channels, in_h, in_w, out_h, out_w, out_channels;
  int kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w;
  int m_total;                                // pixels: n x out_h x out_w
  int k_total;                                // the reduction: kernel_h x kernel_w x channels
  int n_tiles;                                // blocks along the output channels
  int64_t y_strides[4], residual_strides[4];  // NCHW order
  bool packed;  // y and the residual channels-last with 8-element aligned pixels: 8 channels per access
  float output_scale, output_lo, output_hi;  // output_scale 0: no grid
  int output_zero_point;
};

// Where a thread's 4 pixel rows read the input: the image's first element and the window's
// corner (negative inside the padding).
struct PixelRows {
  int image[4];
  int h[4], w[4];
  bool valid[4];
};

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16 bytes from global to shared memory, or 16 zeros where `valid` is false (nothing read).
__device__ __forceinline__ void copy_async_16(uint32_t dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void commit_copies() {
  asm volatile("cp.async.commit_group;\n" ::);
}
template <int Pending>
__device__ __forceinline__ void wait_copies() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
}

__device__ __forceinline__ void load_matrices(uint32_t address, uint32_t (&r)[4]) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}

template <bool kUnsignedX>
__device__ __forceinline__ void multiply_accumulate(int (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  if constexpr (kUnsignedX)
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  else
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Byte offset of 16-byte chunk `chunk` (0..3) of row `row` in a tile of 64-byte rows. The
// chunk is swizzled by the row so that ldmatrix's 8 rows at one chunk land in 8 distinct
// groups of 4 banks (unswizzled, rows r and r + 2 would share theirs).
__device__ __forceinline__ int tile_offset(int row, int chunk) {
  return row * kBlockK + ((chunk ^ ((row >> 1) & 3)) << 4);
}

template <int BN>
constexpr size_t shared_bytes() {
  const size_t pipeline = size_t{kStages} * (kBlockM + BN) * kBlockK;
  const size_t staging = size_t{kBlockM} * (BN + 4) * sizeof(float);
  return pipeline > staging ? pipeline : staging;
}

template <int BN>
struct Tiles {
  static constexpr int kWarpN = BN / 2;   // 2 x 2 warps of 64 x kWarpN
  static constexpr int kNT = kWarpN / 8;  // n8 tiles per warp
  static constexpr int kATile = kBlockM * kBlockK, kBTile = BN * kBlockK;
};

// One stage's copies: this thread's 16-byte chunk `chunk` of k-tile `kt` for 4 input rows
// (pixels load_row + 32 i) and BN / 32 filter rows.
template <int BN>
__device__ __forceinline__ void load_stage(const int8_t* x, const int8_t* w, const Geometry& g, int8_t* a_tile,
                                           int8_t* b_tile, int kt, int chunk, int load_row, int n0,
                                           const PixelRows& rows) {
  const int k = kt * kBlockK + chunk * 16;
  const bool k_valid = k < g.k_total;
  int dh = 0, dw = 0, c = 0;
  if (k_valid) {
    const int rs = k / g.channels;
    c = k - rs * g.channels;
    const int r = rs / g.kernel_w;
    dh = r * g.dilation_h;
    dw = (rs - r * g.kernel_w) * g.dilation_w;
  }
  const uint32_t a_dst = shared_address(a_tile), b_dst = shared_address(b_tile);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int h = rows.h[i] + dh, w_at = rows.w[i] + dw;
    const bool valid = k_valid && rows.valid[i] && unsigned(h) < unsigned(g.in_h) && unsigned(w_at) < unsigned(g.in_w);
    copy_async_16(a_dst + tile_offset(load_row + 32 * i, chunk),
                  valid ? x + rows.image[i] + (h * g.in_w + w_at) * g.channels + c : x, valid);
  }
#pragma unroll
  for (int j = 0; j < BN / 32; ++j) {
    const int n = n0 + load_row + 32 * j;
    const bool valid = k_valid && n < g.out_channels;
    copy_async_16(b_dst + tile_offset(load_row + 32 * j, chunk), valid ? w + n * g.k_total + k : w, valid);
  }
}

// The warp's 64 x kWarpN sums over one stage (two k32 steps).
template <int BN, bool kUnsignedX>
__device__ __forceinline__ void multiply_stage(const int8_t* a_tile, const int8_t* b_tile, int warp_m, int warp_n,
                                               int lane, int (&acc)[4][Tiles<BN>::kNT][4]) {
  constexpr int kNT = Tiles<BN>::kNT;
  const uint32_t a_base = shared_address(a_tile), b_base = shared_address(b_tile);
#pragma unroll
  for (int ks = 0; ks < 2; ++ks) {
    // A: matrices (rows 0-7 | 8-15) x (k 0-15 | 16-31), lane l addressing row l % 16 of
    // chunk 2 ks + l / 16: registers a0..a3 of the m16n8k32 fragment.
    uint32_t a[4][4];
#pragma unroll
    for (int mt = 0; mt < 4; ++mt)
      load_matrices(a_base + tile_offset(warp_m * 64 + mt * 16 + (lane & 15), 2 * ks + (lane >> 4)), a[mt]);
    // B: two n8 tiles per load, (k 0-15, k 16-31) of the first tile, then of the second.
    uint32_t b[kNT][2];
#pragma unroll
    for (int np = 0; np < kNT / 2; ++np) {
      uint32_t r[4];
      const int row = warp_n * Tiles<BN>::kWarpN + np * 16 + (lane & 7) + ((lane >> 4) << 3);
      load_matrices(b_base + tile_offset(row, 2 * ks + ((lane >> 3) & 1)), r);
      b[2 * np][0] = r[0];
      b[2 * np][1] = r[1];
      b[2 * np + 1][0] = r[2];
      b[2 * np + 1][1] = r[3];
    }
#pragma unroll
    for (int mt = 0; mt < 4; ++mt)
#pragma unroll
      for (int nt = 0; nt < kNT; ++nt) multiply_accumulate<kUnsignedX>(acc[mt][nt], a[mt], b[nt][0], b[nt][1]);
  }
}

template <typename T>
constexpr bool kLevels = std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>;

// 8 output channels of one pixel, the first at y (residual) with the others `*_step`
// elements apart (1 where packed): v = act(sums + bias + residual), then the grid.
template <typename T>
__device__ __forceinline__ void write_outputs(float (&v)[8], const float* bias, const T* residual, int64_t r_step, T* y,
                                              int64_t y_step, const Geometry& g, const ir::Activation& act) {
#pragma unroll
  for (int j = 0; j < 8; ++j) v[j] += bias[j];
  if constexpr (!kLevels<T>) {
    if (residual) {
      float r[8];
      if (g.packed) {
        load_floats<T, 8>(residual, r);
      } else {
#pragma unroll
        for (int j = 0; j < 8; ++j) r[j] = to_float(residual[j * r_step]);
      }
#pragma unroll
      for (int j = 0; j < 8; ++j) v[j] += r[j];
    }
  }
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    v[j] = ir::apply_activation(act, v[j]);
    // core/quantize.h's quantized_level(), bit for bit: IEEE division, saturation, then
    // rounding half to even by adding and subtracting 1.5 x 2^23.
    if (kLevels<T> || g.output_scale > 0) {
      const float level = fminf(fmaxf(__fdiv_rn(v[j], g.output_scale), g.output_lo), g.output_hi);
      v[j] = __fsub_rn(__fadd_rn(level, 12582912.0f), 12582912.0f);
      if constexpr (!kLevels<T>) v[j] = __fmul_rn(v[j], g.output_scale);
    }
  }
  if constexpr (kLevels<T>) {
    Pack<T, 8> out;
#pragma unroll
    for (int j = 0; j < 8; ++j) out.v[j] = static_cast<T>(int(v[j]) + g.output_zero_point);
    if (g.packed) {
      *reinterpret_cast<Pack<T, 8>*>(y) = out;
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) y[j * y_step] = out.v[j];
    }
  } else if (g.packed) {
    store_floats<T, 8>(y, v);
  } else {
#pragma unroll
    for (int j = 0; j < 8; ++j) y[j * y_step] = from_float<T>(v[j]);
  }
}

// The offset of channel c of pixel m in a view of `strides` (NCHW order).
__device__ __forceinline__ int64_t element_at(const int64_t (&strides)[4], const Geometry& g, int m, int c) {
  const int ow = m % g.out_w, rest = m / g.out_w;
  const int oh = rest % g.out_h, image = rest / g.out_h;
  return image * strides[0] + c * strides[1] + oh * strides[2] + ow * strides[3];
}

template <int BN, typename T, bool kUnsignedX>
__global__ void __launch_bounds__(kThreads)
    int8_conv_kernel(const int8_t* __restrict__ x, const int8_t* __restrict__ w, const float* __restrict__ scale,
                     const float* __restrict__ bias, const T* __restrict__ residual, T* __restrict__ y,
                     const __grid_constant__ Geometry g, const ir::Activation act) {
  using Tile = Tiles<BN>;
  extern __shared__ __align__(128) int8_t shared[];
  int8_t* a_tiles = shared;                           // [kStages][kATile]
  int8_t* b_tiles = shared + kStages * Tile::kATile;  // [kStages][kBTile]
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int warp_m = warp >> 1, warp_n = warp & 1;
  // Blocks of one row of pixels run next to each other: they read the same input rows.
  const int n0 = int(blockIdx.x % unsigned(g.n_tiles)) * BN, m0 = int(blockIdx.x / unsigned(g.n_tiles)) * kBlockM;
  const int chunk = tid & 3, load_row = tid >> 2;

  PixelRows rows;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int m = m0 + load_row + 32 * i;
    rows.valid[i] = m < g.m_total;
    const int pixel = rows.valid[i] ? m : 0;
    const int ow = pixel % g.out_w, rest = pixel / g.out_w;
    const int oh = rest % g.out_h, image = rest / g.out_h;
    rows.image[i] = image * g.in_h * g.in_w * g.channels;
    rows.h[i] = oh * g.stride_h - g.pad_h;
    rows.w[i] = ow * g.stride_w - g.pad_w;
  }

  int acc[4][Tile::kNT][4] = {};
  const int k_tiles = (g.k_total + kBlockK - 1) / kBlockK;
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < k_tiles)
      load_stage<BN>(x, w, g, a_tiles + s * Tile::kATile, b_tiles + s * Tile::kBTile, s, chunk, load_row, n0, rows);
    commit_copies();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    wait_copies<kStages - 2>();
    __syncthreads();  // stage kt is in; every warp is done with the stage the next copy reuses
    const int next = kt + kStages - 1;
    if (next < k_tiles) {
      const int s = next % kStages;
      load_stage<BN>(x, w, g, a_tiles + s * Tile::kATile, b_tiles + s * Tile::kBTile, next, chunk, load_row, n0, rows);
    }
    commit_copies();
    const int s = kt % kStages;
    multiply_stage<BN, kUnsignedX>(a_tiles + s * Tile::kATile, b_tiles + s * Tile::kBTile, warp_m, warp_n, lane, acc);
  }
  wait_copies<0>();
  __syncthreads();

  // The scaled sums into shared memory: fragment c0..c3 holds (row g, columns 2t, 2t + 1)
  // and (row g + 8, the same), g = lane / 4, t = lane % 4.
  constexpr int kStride = BN + 4;
  float* staged = reinterpret_cast<float*>(shared);
#pragma unroll
  for (int nt = 0; nt < Tile::kNT; ++nt) {
    const int col = warp_n * Tile::kWarpN + nt * 8 + (lane & 3) * 2;
    const int n = n0 + col;  // out_channels is a multiple of 8: both columns valid or neither
    const float s0 = n < g.out_channels ? scale[n] : 0.0f, s1 = n < g.out_channels ? scale[n + 1] : 0.0f;
#pragma unroll
    for (int mt = 0; mt < 4; ++mt) {
      const int row = warp_m * 64 + mt * 16 + (lane >> 2);
      *reinterpret_cast<float2*>(staged + row * kStride + col) =
          make_float2(float(acc[mt][nt][0]) * s0, float(acc[mt][nt][1]) * s1);
      *reinterpret_cast<float2*>(staged + (row + 8) * kStride + col) =
          make_float2(float(acc[mt][nt][2]) * s0, float(acc[mt][nt][3]) * s1);
    }
  }
  __syncthreads();
  constexpr int kGroups = BN / 8;
  for (int i = tid; i < kBlockM * kGroups; i += kThreads) {
    const int row = i / kGroups, group = i - row * kGroups;
    const int m = m0 + row, n = n0 + group * 8;
    if (m >= g.m_total || n >= g.out_channels) continue;
    const float* from = staged + row * kStride + group * 8;
    float v[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) v[j] = from[j];
    write_outputs<T>(v, bias + n, residual ? residual + element_at(g.residual_strides, g, m, n) : nullptr,
                     g.residual_strides[1], y + element_at(g.y_strides, g, m, n), g.y_strides[1], g, act);
  }
}

bool aligned(const void* p, size_t bytes) {
  return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

constexpr int kMaxDevices = 64;

// The BN = 128 tile stages more than the 48 KiB of shared memory a launch gets unasked; the
// attribute is the function's on each device, set once per device.
template <int BN, typename T, bool kUnsignedX>
cudaError_t allow_shared_bytes() {
  if constexpr (shared_bytes<BN>() <= 48 * 1024) {
    return cudaSuccess;
  } else {
    static std::atomic<bool> done[kMaxDevices] = {};
    int device = 0;
    if (cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) return e;
    if (device < kMaxDevices && done[device].load(std::memory_order_acquire)) return cudaSuccess;
    const cudaError_t e = cudaFuncSetAttribute(int8_conv_kernel<BN, T, kUnsignedX>,
                                               cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared_bytes<BN>()));
    if (e == cudaSuccess && device < kMaxDevices) done[device].store(true, std::memory_order_release);
    return e;
  }
}

template <int BN, typename T, bool kUnsignedX>
cudaError_t launch_tiles(const Int8ConvArgs& a, Geometry g, cudaStream_t stream) {
  g.n_tiles = (g.out_channels + BN - 1) / BN;
  const int64_t blocks = int64_t{g.n_tiles} * ((g.m_total + kBlockM - 1) / kBlockM);
  if (blocks >= (int64_t{1} << 31)) return cudaErrorInvalidValue;
  if (cudaError_t e = allow_shared_bytes<BN, T, kUnsignedX>(); e != cudaSuccess) return e;
  int8_conv_kernel<BN, T, kUnsignedX><<<unsigned(blocks), kThreads, shared_bytes<BN>(), stream>>>(
      static_cast<const int8_t*>(a.x), a.w, a.scale, a.bias, static_cast<const T*>(a.residual), static_cast<T*>(a.y), g,
      a.act);
  return cudaGetLastError();
}

// Channels-last with every pixel's first channel on an 8-element boundary.
bool packs_of_8(const void* p, const int64_t (&strides)[4], size_t element_bytes) {
  return strides[1] == 1 && strides[0] % 8 == 0 && strides[2] % 8 == 0 && strides[3] % 8 == 0 &&
         aligned(p, 8 * element_bytes);
}

template <typename T>
cudaError_t launch_typed(const Int8ConvArgs& a, Geometry g, uint8_t variant, cudaStream_t stream) {
  if (a.residual && kLevels<T>) return cudaErrorInvalidValue;
  if (kLevels<T> && !(a.output_scale > 0)) return cudaErrorInvalidValue;
  g.packed =
      packs_of_8(a.y, g.y_strides, sizeof(T)) && (!a.residual || packs_of_8(a.residual, g.residual_strides, sizeof(T)));
  if (a.x_unsigned)
    return variant == 0 ? launch_tiles<64, T, true>(a, g, stream) : launch_tiles<128, T, true>(a, g, stream);
  return variant == 0 ? launch_tiles<64, T, false>(a, g, stream) : launch_tiles<128, T, false>(a, g, stream);
}

// Whether the arguments describe a convolution the kernel's 32-bit indexing covers.
bool valid_geometry(const Int8ConvArgs& a) {
  const int dims[] = {a.n,        a.in_h,     a.in_w,     a.channels, a.out_h,      a.out_w,     a.out_channels,
                      a.kernel_h, a.kernel_w, a.stride_h, a.stride_w, a.dilation_h, a.dilation_w};
  for (int d : dims)
    if (d <= 0) return false;
  if (a.pad_h < 0 || a.pad_w < 0 || !int8_conv_kernel_applies(a.channels, a.out_channels)) return false;
  // The last window ends inside the padded input.
  if (int64_t{a.out_h - 1} * a.stride_h + int64_t{a.kernel_h - 1} * a.dilation_h >= int64_t{a.in_h} + 2 * a.pad_h ||
      int64_t{a.out_w - 1} * a.stride_w + int64_t{a.kernel_w - 1} * a.dilation_w >= int64_t{a.in_w} + 2 * a.pad_w)
    return false;
  constexpr int64_t kLimit = int64_t{1} << 31;
  const int64_t pixels = int64_t{a.n} * a.out_h * a.out_w;
  const int64_t reduction = int64_t{a.kernel_h} * a.kernel_w * a.channels;
  return int64_t{a.n} * a.in_h * a.in_w * a.channels < kLimit && pixels < kLimit && reduction * a.out_channels < kLimit;
}

}  // namespace

cudaError_t launch_int8_conv(const Int8ConvArgs& a, uint8_t variant, cudaStream_t stream) {
  if (variant >= kInt8ConvVariants || !valid_geometry(a) || a.scale == nullptr || a.bias == nullptr)
    return cudaErrorInvalidValue;
  if (!aligned(a.x, 16) || !aligned(a.w, 16) || !aligned(a.scale, 4) || !aligned(a.bias, 4))
    return cudaErrorInvalidValue;
  Geometry g{a.channels,
             a.in_h,
             a.in_w,
             a.out_h,
             a.out_w,
             a.out_channels,
             a.kernel_w,
             a.stride_h,
             a.stride_w,
             a.dilation_h,
             a.dilation_w,
             a.pad_h,
             a.pad_w,
             a.n * a.out_h * a.out_w,
             a.kernel_h * a.kernel_w * a.channels,
             0,
             {},
             {},
             false,
             a.output_scale > 0 ? a.output_scale : 0.0f,
             a.output_lo,
             a.output_hi,
             a.output_zero_point};
  // Strides all zero: dense NHWC.
  const int64_t dense[4] = {int64_t{a.out_h} * a.out_w * a.out_channels, 1, int64_t{a.out_w} * a.out_channels,
                            a.out_channels};
  const auto strides_or_dense = [&](const int64_t(&given)[4], int64_t(&to)[4]) {
    const bool none = given[0] == 0 && given[1] == 0 && given[2] == 0 && given[3] == 0;
    for (int i = 0; i < 4; ++i) to[i] = none ? dense[i] : given[i];
  };
  strides_or_dense(a.y_strides, g.y_strides);
  strides_or_dense(a.residual_strides, g.residual_strides);
  switch (a.dtype) {
    case DataType::kFloat32:
      return launch_typed<float>(a, g, variant, stream);
    case DataType::kFloat16:
      return launch_typed<__half>(a, g, variant, stream);
    case DataType::kBFloat16:
      return launch_typed<__nv_bfloat16>(a, g, variant, stream);
    case DataType::kInt8:
      return launch_typed<int8_t>(a, g, variant, stream);
    case DataType::kUint8:
      return launch_typed<uint8_t>(a, g, variant, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace inferd::cuda
