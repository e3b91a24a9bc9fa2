// The INT8 Gemm of the CPU backend (dnnl_gemm_int8.cc), packed by pack_gemm (dnnl_gemm.cc)
// for a Gemm that carries INT8 input attributes.
//
// Internal to the CPU backend.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/cpu/dnnl_ops.h"

namespace inferd::cpu {

// A Gemm's constants as pack_gemm has decoded them.
struct Int8GemmWeights {
  std::vector<float> rows;    // B' as row-major [N, K], alpha NOT applied (it stays on the grid)
  int64_t n = 0, k = 0;
  float alpha = 1;
  std::vector<float> bias;    // beta * C per output, or empty
  std::vector<float> scales;  // the node's weight_scales (one per output), or empty
};

PackResult pack_int8_gemm(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts,
                          const Int8GemmWeights& w);

}  // namespace inferd::cpu
