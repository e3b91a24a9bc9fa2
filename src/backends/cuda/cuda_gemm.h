// Internals shared by the Gemm family's files (cuda_gemm.cc: supports/pack/kernel,
// cuda_gemm_tune.cc: timing, cuda_gemm_spec.cc: validation, cuBLASLt descriptors, blob).
//
// Layout: Y [M, N] = act(alpha * A [M, K] * W^T + beta * C) with W packed as [N, K]
// row-major. cuBLASLt is column-major, so it computes D (N x M, ld N: Y's bytes) =
// op(W: K x N, ld K)^T * (A: K x M, ld K): the "TN" form tensor-core kernels favour, the
// bias epilogue's vector runs along D's rows (= Y's columns), as Gemm's C [N] does.
#pragma once

#include <cublasLt.h>

#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "backends/cuda/cuda_common.h"
#include "ir/activation.h"
#include "ir/graph.h"

namespace inferd::cuda {

inline constexpr size_t kGemmWorkspaceCap = size_t{32} << 20;
// The alignment (bytes) cuBLASLt algorithms are chosen for; enqueue checks A and Y have it.
inline constexpr uint32_t kGemmAlignment = 16;

struct GemmSpec {
  int64_t n = 0, k = 0;
  DataType dtype = DataType::kFloat32;  // of A and Y
  bool strict_fp32 = false;             // precision "fp32" on fp32 data: no TF32
  float alpha = 1.0f, beta = 1.0f;
  // C as a per-column bias ([N], [1, N] or a scalar), a full matrix ([M0, N] or [M0, 1],
  // which fixes the batch to M0), or absent.
  enum class CKind : uint8_t { kNone, kBias, kMatrix } c_kind = CKind::kNone;
  int64_t c_rows = 0;  // kMatrix: M0
  ir::Activation act;  // simplified (cuda_epilogue.h)
};

// The spec of `node`, or why the backend cannot run it (transA, non-constant B or C, ...).
Result<GemmSpec> gemm_spec(const ir::Graph& graph, const ir::Node& node, std::string_view precision);
// beta * C as the bias vector [N] or the matrix [M0, N] it broadcasts to.
std::vector<float> scaled_c(const GemmSpec& spec, const Tensor& c);
// Whether cuBLASLt's epilogue covers the activation (ReLU, identity); others run ours after.
bool lt_fuses_activation(const GemmSpec& spec);

// The cuBLASLt descriptors of one Gemm; shapes set per M.
struct LtMatmul {
  LtMatmul() = default;
  LtMatmul(const LtMatmul&) = delete;
  LtMatmul& operator=(const LtMatmul&) = delete;
  ~LtMatmul();

  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t w = nullptr, a = nullptr, c = nullptr, d = nullptr;
};
// Creates the operation (compute type per precision, transposes, epilogue with `bias`).
Status init_lt_matmul(LtMatmul& mm, const GemmSpec& spec, const void* bias);
// Sets the layouts for M rows of A (row stride lda) and Y (row stride ldy); C is laid
// out like Y (a matrix C is packed with row stride N).
Status set_lt_shapes(LtMatmul& mm, const GemmSpec& spec, int64_t m, int64_t lda, int64_t ldy);
// Up to `count` algorithms cuBLASLt proposes within kGemmWorkspaceCap and kGemmAlignment.
Result<std::vector<cublasLtMatmulHeuristicResult_t>> lt_heuristics(cublasLtHandle_t handle, const LtMatmul& mm,
                                                                   int count);

// A cuBLASLt handle per device for the process (never destroyed; see QueryHandle in
// cuda_conv.h): reshape queries algorithms where no stream is at hand.
class LtHandle {
 public:
  static Result<LtHandle> acquire(int device);
  cublasLtHandle_t get() const { return handle_; }

 private:
  LtHandle(std::unique_lock<std::mutex> lock, cublasLtHandle_t handle) : lock_(std::move(lock)), handle_(handle) {}
  std::unique_lock<std::mutex> lock_;
  cublasLtHandle_t handle_ = nullptr;
};

// ---- tuning blob ------------------------------------------------------------------------
// Version 1: byte 0 = 1, byte 1 = entry count, bytes 2-3 zero, uint32 N, uint32 K (the
// shape tuned, checked at pack), then per entry 80 bytes little-endian: int32 batch,
// uint8 kind (0 cuBLASLt, 1 GEMV), 3 zero bytes, uint64 workspace bytes, and the
// cublasLtMatmulAlgo_t as 8 uint64 (meaningful for kind 0). Entries ascend by batch.
struct GemmChoice {
  enum class Kind : uint8_t { kCublasLt = 0, kGemv = 1 };
  int32_t batch = 0;
  Kind kind = Kind::kCublasLt;
  uint64_t workspace = 0;
  cublasLtMatmulAlgo_t algo = {};
};
std::vector<uint8_t> encode_gemm_choices(const GemmSpec& spec, std::span<const GemmChoice> choices);
Result<std::vector<GemmChoice>> decode_gemm_choices(const GemmSpec& spec, std::span<const uint8_t> blob);
const GemmChoice* choice_for_batch(std::span<const GemmChoice> choices, int64_t batch);

}  // namespace inferd::cuda
