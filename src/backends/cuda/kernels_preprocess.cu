// Image preprocessing on the GPU: decoded 8-bit RGB -> one sample of the network input,
// with the geometry and arithmetic of the CPU path (image/preprocess.cc, resample.cc):
// Pillow's antialiased bilinear resize (triangle filter stretched by the downscale
// factor, fixed-point weights with 22 fraction bits, a horizontal pass rounded and
// clipped to 8 bits, then a vertical pass rounded and clipped again), the centre crop,
// the channel order and v * scale / std - mean / std. The decoded pixels are read through
// the EXIF orientation (an affine walk, as image/orientation.cc applies it), so a rotated
// photo needs no rotated copy (the GPU JPEG decoder, gpu_jpeg_decoder.cc).
//
// One thread computes one output pixel (all three channels). Instead of precomputing tap
// tables (which would need memory per image, and launchers never allocate), each thread
// derives its taps from the same double expressions as triangle_taps(). Device doubles
// are IEEE like the host's; the roundings that matter use the _rn intrinsics so nvcc
// cannot fuse them into FMAs, which keeps the weights identical to the CPU's and the
// 8-bit pixels bit-exact for the full-size decodes this kernel sees (the CPU's DCT-scaled
// JPEG spans do not arise: the decoder on the GPU side gives full-size pixels).
// The one float step left, v * gain + bias, is one FMA, as the CPU's AVX2 build (the
// x86-64-v3 clone of resample_to_planes, which GCC contracts) computes it; the CPU's
// portable build rounds the product first and may differ by an ulp.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/device_math.cuh"

namespace inferd::cuda {
namespace {

constexpr int kFractionBits = 22;  // image::kWeightFractionBits (Pillow's PRECISION_BITS)
constexpr int32_t kHalf = int32_t{1} << (kFractionBits - 1);


// The taps of one output position along one axis (triangle_taps for a single output):
// sources [lo, lo + n), weight k = to_fixed(triangle((lo + k - center + 0.5) / fs) / sum).
struct Taps {
  int lo, n;
  double center, inverse_filter_scale, sum;
};

__device__ __forceinline__ double triangle(double x) {
  x = fabs(x);
  return x < 1.0 ? __dsub_rn(1.0, x) : 0.0;
}

__device__ __forceinline__ double raw_weight(const Taps& t, int k) {
  return triangle(__dmul_rn(__dadd_rn(__dsub_rn(double(t.lo + k), t.center), 0.5), t.inverse_filter_scale));
}

// Output `out` (in resized coordinates) of an axis of in_size pixels resized to out_size.
__device__ Taps axis_taps(int in_size, int out_size, int out) {
  const double scale = __ddiv_rn(double(in_size), double(out_size));
  const double support = fmax(scale, 1.0);  // the triangle's support (1) stretched
  Taps t;
  t.inverse_filter_scale = __ddiv_rn(1.0, support);
  t.center = __dmul_rn(__dadd_rn(double(out), 0.5), scale);
  const int stride = int(ceil(support)) * 2 + 1;
  t.lo = max(0, int(__dadd_rn(__dsub_rn(t.center, support), 0.5)));
  const int hi = min(in_size, int(__dadd_rn(__dadd_rn(t.center, support), 0.5)));
  t.n = min(hi - t.lo, stride);
  t.sum = 0.0;
  for (int k = 0; k < t.n; ++k) t.sum = __dadd_rn(t.sum, raw_weight(t, k));
  return t;
}

// Pillow's fixed-point weight: the normalised double scaled and rounded half up.
__device__ __forceinline__ int32_t fixed_weight(const Taps& t, int k) {
  return int32_t(__dadd_rn(0.5, __dmul_rn(__ddiv_rn(raw_weight(t, k), t.sum), double(1 << kFractionBits))));
}

__device__ __forceinline__ int clip8(int32_t sum) {
  return min(max(sum >> kFractionBits, 0), 255);
}

// Pixel (x, y) of the oriented image is at byte origin + x * step_x + y * step_y of the
// stored one: each EXIF orientation is such an affine walk (image/orientation.cc's
// source_walk, in bytes with the row pitch).
struct SourceWalk {
  int64_t origin, step_x, step_y;
};

SourceWalk source_walk(const PreprocessParams& p) {
  const int64_t row = p.src_row_bytes;
  const int64_t last_row = int64_t(p.src_height - 1) * row, last_col = int64_t(p.src_width - 1) * 3;
  switch (p.orientation) {
    case 2: return {last_col, -3, row};
    case 3: return {last_row + last_col, -3, -row};
    case 4: return {last_row, 3, -row};
    case 5: return {0, row, 3};
    case 6: return {last_row, -row, 3};
    case 7: return {last_row + last_col, -row, -3};
    case 8: return {last_col, row, -3};
    default: return {0, 3, row};
  }
}

template <typename T>
__global__ void preprocess_kernel(const uint8_t* __restrict__ rgb, PreprocessParams p, SourceWalk walk,
                                  T* __restrict__ y, int out_w, int out_h, int64_t s1, int64_t s2, int64_t s3) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x, i = blockIdx.y * blockDim.y + threadIdx.y;
  if (j >= out_w || i >= out_h) return;
  const bool swaps = p.orientation >= 5 && p.orientation <= 8;
  const Taps tx = axis_taps(swaps ? p.src_height : p.src_width, p.resized_width, p.crop_x + j);
  const Taps ty = axis_taps(swaps ? p.src_width : p.src_height, p.resized_height, p.crop_y + i);
  int32_t acc[3] = {kHalf, kHalf, kHalf};
  for (int r = 0; r < ty.n; ++r) {
    const int32_t wy = fixed_weight(ty, r);
    if (wy == 0) continue;  // a trimmed tap: its row is never filtered on the CPU either
    const uint8_t* row = rgb + walk.origin + int64_t(ty.lo + r) * walk.step_y + int64_t(tx.lo) * walk.step_x;
    int32_t h[3] = {kHalf, kHalf, kHalf};
    for (int k = 0; k < tx.n; ++k) {
      const int32_t wx = fixed_weight(tx, k);
      const uint8_t* px = row + int64_t(k) * walk.step_x;
      h[0] += wx * px[0];
      h[1] += wx * px[1];
      h[2] += wx * px[2];
    }
    for (int c = 0; c < 3; ++c) acc[c] += wy * clip8(h[c]);
  }
  const int pixel[3] = {clip8(acc[0]), clip8(acc[1]), clip8(acc[2])};
  T* out = y + int64_t(i) * s2 + int64_t(j) * s3;
  for (int c = 0; c < 3; ++c)
    out[c * s1] = from_float<T>(__fmaf_rn(float(pixel[p.source_channel[c]]), p.gain[c], p.bias[c]));
}

bool valid(const PreprocessParams& p, const DeviceTensor& y) {
  if (y.rank != 4 || y.dims[1] != 3 || p.batch_index < 0 || p.batch_index >= y.dims[0]) return false;
  if (p.src_width <= 0 || p.src_height <= 0 || p.src_row_bytes < 3 * p.src_width) return false;
  if (p.orientation < 1 || p.orientation > 8) return false;
  if (p.resized_width <= 0 || p.resized_height <= 0 || p.crop_x < 0 || p.crop_y < 0) return false;
  if (p.crop_x + y.dims[3] > p.resized_width || p.crop_y + y.dims[2] > p.resized_height) return false;
  for (int c = 0; c < 3; ++c)
    if (p.source_channel[c] < 0 || p.source_channel[c] > 2) return false;
  return true;
}

}  // namespace

cudaError_t launch_preprocess(const uint8_t* rgb, const PreprocessParams& p, const DeviceTensor& y,
                              cudaStream_t stream) {
  if (!valid(p, y)) return cudaErrorInvalidValue;
  const int out_w = static_cast<int>(y.dims[3]), out_h = static_cast<int>(y.dims[2]);
  if (out_w == 0 || out_h == 0) return cudaSuccess;
  const dim3 block(32, 8);
  const dim3 grid(static_cast<unsigned>((out_w + 31) / 32), static_cast<unsigned>((out_h + 7) / 8));
  const int64_t base = int64_t{p.batch_index} * y.strides[0];
  auto launch = [&](auto* out) {
    preprocess_kernel<<<grid, block, 0, stream>>>(rgb, p, source_walk(p), out + base, out_w, out_h, y.strides[1],
                                                  y.strides[2], y.strides[3]);
    return cudaGetLastError();
  };
  switch (y.dtype) {
    case DataType::kFloat32:
      return launch(static_cast<float*>(y.data));
    case DataType::kFloat16:
      return launch(static_cast<__half*>(y.data));
    case DataType::kBFloat16:
      return launch(static_cast<__nv_bfloat16*>(y.data));
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace inferd::cuda
