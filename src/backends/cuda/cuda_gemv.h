// A matrix-vector kernel for Gemm at batch 1..4: Y[m, n] = act(alpha * dot(A[m, :], W[n, :])
// + bias[n] + C[m, n]). At such batches a GEMM library tiles for far more rows than it
// gets; the work is reading W once, so one warp streams one row of W with 16-byte loads
// and reuses it for every batch row (fp32 accumulation, bias + activation fused).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/activation.h"

namespace inferd::cuda {

inline constexpr int kGemvMaxRows = 4;

struct GemvArgs {
  DataType dtype = DataType::kFloat32;  // of W, A, bias, C and Y: fp32, fp16 or bf16
  int m = 1;                            // 1..kGemvMaxRows
  int64_t n = 0, k = 0;
  const void* w = nullptr;  // [n, k] row-major, dense
  const void* a = nullptr;  // [m, k], row stride lda
  int64_t lda = 0;
  const void* bias = nullptr;  // [n] or null
  const void* c = nullptr;     // [m, n] with row stride ldc (already times beta) or null
  int64_t ldc = 0;
  void* y = nullptr;  // [m, n], row stride ldy
  int64_t ldy = 0;
  float alpha = 1.0f;
  ir::Activation act;
};

Status launch_gemv(const GemvArgs& args, cudaStream_t stream);

}  // namespace inferd::cuda
