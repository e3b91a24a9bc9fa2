// The GEMV kernel of cuda_gemv.h. Memory bound on W (AlexNet's fc6 is 9216 x 4096: 75 MB
// in fp16 against a few KB of activations), so the design goals are full-width loads of W
// that each byte of it is read once for all batch rows, and enough warps in flight:
//   - one warp per output column n (a row of W), 8 warps per block;
//   - 16-byte vector loads of W and A through the read-only path when K and the pointers
//     allow (8 fp16/bf16 or 4 fp32 per load), scalar loads otherwise;
//   - M (1..4) is a template parameter so the accumulators stay in registers;
//   - a butterfly shuffle reduction, then lane m finishes row m.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <string>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_gemv.h"
#include "backends/cuda/device_math.cuh"

namespace inferd::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

// Dot product of two 16-byte vectors of T, in fp32.
template <typename T>
__device__ inline float dot16(const uint4& w, const uint4& a) {
  const T* wv = reinterpret_cast<const T*>(&w);
  const T* av = reinterpret_cast<const T*>(&a);
  float s = 0.0f;
#pragma unroll
  for (int i = 0; i < static_cast<int>(16 / sizeof(T)); ++i) s = fmaf(to_float(wv[i]), to_float(av[i]), s);
  return s;
}

struct GemvParams {
  int64_t n, k, lda, ldc, ldy;
  float alpha;
  ir::Activation act;
};

template <typename T, int M, bool kVector>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    gemv_kernel(GemvParams p, const T* __restrict__ w, const T* __restrict__ a, const T* __restrict__ bias,
                const T* __restrict__ c, T* __restrict__ y) {
  const int lane = threadIdx.x & 31;
  const int64_t n = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (n >= p.n) return;  // whole warps exit together: the shuffles below stay full-warp
  const T* row = w + n * p.k;
  float acc[M];
#pragma unroll
  for (int m = 0; m < M; ++m) acc[m] = 0.0f;
  if constexpr (kVector) {
    constexpr int kPer = 16 / sizeof(T);
    const int64_t vectors = p.k / kPer;
    const uint4* wv = reinterpret_cast<const uint4*>(row);
#pragma unroll 4
    for (int64_t i = lane; i < vectors; i += 32) {
      const uint4 wi = __ldg(wv + i);
#pragma unroll
      for (int m = 0; m < M; ++m) acc[m] += dot16<T>(wi, __ldg(reinterpret_cast<const uint4*>(a + m * p.lda) + i));
    }
  } else {
    for (int64_t i = lane; i < p.k; i += 32) {
      const float wi = to_float(row[i]);
#pragma unroll
      for (int m = 0; m < M; ++m) acc[m] = fmaf(wi, to_float(a[m * p.lda + i]), acc[m]);
    }
  }
#pragma unroll
  for (int m = 0; m < M; ++m)
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], offset);
      // After the butterfly every lane holds every sum; lane m writes batch row m.
#pragma unroll
  for (int m = 0; m < M; ++m) {
    if (lane != m) continue;
    float v = p.alpha * acc[m];
    if (bias) v += to_float(bias[n]);
    if (c) v += to_float(c[m * p.ldc + n]);
    y[m * p.ldy + n] = from_float<T>(ir::apply_activation(p.act, v));
  }
}

bool aligned16(const void* ptr) {
  return (reinterpret_cast<uintptr_t>(ptr) & 15u) == 0;
}

template <typename T, int M>
Status launch_rows(const GemvArgs& g, cudaStream_t stream) {
  constexpr int64_t kPer = 16 / sizeof(T);
  const bool vector = g.k % kPer == 0 && g.lda % kPer == 0 && aligned16(g.w) && aligned16(g.a);
  const GemvParams p{g.n, g.k, g.lda, g.ldc, g.ldy, g.alpha, g.act};
  const auto blocks = static_cast<unsigned>((g.n + kWarpsPerBlock - 1) / kWarpsPerBlock);
  const auto* w = static_cast<const T*>(g.w);
  const auto* a = static_cast<const T*>(g.a);
  const auto* bias = static_cast<const T*>(g.bias);
  const auto* c = static_cast<const T*>(g.c);
  auto* y = static_cast<T*>(g.y);
  if (vector)
    gemv_kernel<T, M, true><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(p, w, a, bias, c, y);
  else
    gemv_kernel<T, M, false><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(p, w, a, bias, c, y);
  return cuda_status(cudaGetLastError(), "gemv_kernel<<<>>>");
}

template <typename T>
Status launch_typed(const GemvArgs& g, cudaStream_t stream) {
  switch (g.m) {
    case 1:
      return launch_rows<T, 1>(g, stream);
    case 2:
      return launch_rows<T, 2>(g, stream);
    case 3:
      return launch_rows<T, 3>(g, stream);
    case 4:
      return launch_rows<T, 4>(g, stream);
    default:
      return internal_error("gemv runs 1 to 4 rows, not " + std::to_string(g.m));
  }
}

}  // namespace

Status launch_gemv(const GemvArgs& args, cudaStream_t stream) {
  if (args.n <= 0) return Status::ok();
  if (args.n / kWarpsPerBlock >= (int64_t{1} << 31)) return unimplemented("gemv with too many output columns");
  switch (args.dtype) {
    case DataType::kFloat32:
      return launch_typed<float>(args, stream);
    case DataType::kFloat16:
      return launch_typed<__half>(args, stream);
    case DataType::kBFloat16:
      return launch_typed<__nv_bfloat16>(args, stream);
    default:
      return unimplemented(std::string("gemv on ") + to_string(args.dtype) + " tensors");
  }
}

}  // namespace inferd::cuda
