// y = act(W x + bias) for one input row (Gemm at batch 1), reading W in the layout
// oneDNN's inner product packed it in, so batch 1 and larger batches share one copy
// of the weights.
//
// At M = 1 a Gemm is a single pass over W, bound by memory bandwidth; this loop
// streams each panel of W once with the sums held in registers. bench_ops on a
// 16-core Xeon (AVX-512), medians of 100 runs, ms:
//                      this GEMV   oneDNN IP (blocked W)   oneDNN IP (plain W)
//   9216 -> 4096 (fc6)   0.81-0.84      0.90-1.02              0.82-0.94
//   2048 -> 1000         0.013-0.018    0.021-0.031            0.022-0.033
// and at 1 thread 11.5 vs 11.9 / 12.0 (fc6).
//
// Internal to the CPU backend (dnnl_gemm.cc, and its unit test).
#pragma once

#include <cstdint>
#include <optional>

#include "backends/cpu/dnnl_common.h"

namespace inferd::cpu {

// Where W[n][k] lives.
struct GemvLayout {
  enum class Kind {
    kRows,     // plain row-major [N, K] (oneDNN "oi"/"ab")
    kBlocked,  // oneDNN "BA<kb>b<nb>a": panels of nb outputs; inside a panel, blocks
               // of kb inputs, each input holding nb consecutive outputs
  };
  Kind kind = Kind::kRows;
  int64_t n = 0, k = 0;
  int64_t n_block = 1, k_block = 1;                // kBlocked: nb, kb
  int64_t n_block_stride = 0, k_block_stride = 0;  // kBlocked: elements between panels / blocks
};

// The layout of `d` (a 2-D [N, K] weights descriptor), or nullopt for a format
// the GEMV does not read (then the weights are packed plain instead).
std::optional<GemvLayout> gemv_layout_of(const dnnl::memory::desc& d);

// y[n * y_stride] = act(sum_k W[n][k] * x[k] + bias[n]) (bias may be null), with
// OpenMP threads splitting the outputs.
void gemv(const GemvLayout& layout, const float* w, const float* x, const float* bias, const Activation& act, float* y,
          int64_t y_stride);

}  // namespace inferd::cpu
