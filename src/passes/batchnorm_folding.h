// Folds an inference BatchNormalization into the Conv (or Gemm) that feeds it, when
// that Conv/Gemm output has the BN as its only reader, is no graph output, carries no
// fused activation or residual yet, and weights, bias and BN parameters are constant.
// BN(y) = gamma * (y - mean) / sqrt(var + eps) + beta is affine per channel, so with
//   s  = gamma / sqrt(var + eps)                         (per output channel)
//   w' = w * s                                           (each output channel's filter)
//   b' = (b - mean) * s + beta                           (b = 0 when the Conv had none)
// (Ioffe & Szegedy 2015, eq. in Alg. 2 at inference). A BN that follows no Conv/Gemm
// stays as it is.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class BatchNormFolding final : public Pass {
 public:
  std::string_view name() const override { return "batchnorm_folding"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
