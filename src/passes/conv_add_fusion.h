// Fuses a residual Add into the Conv that feeds it (ResNet's "conv + shortcut"):
//   Add(conv_out, other)  ->  Conv(X, W, B, R = other)      (or a two-input Sum)
// when conv_out has the Add as its only reader and is no graph output, the Conv has
// no fused activation or residual yet (act(conv) + other is not act(conv + other)),
// `other` has exactly conv_out's shape (no broadcasting), and ctx.supports accepts the
// fused Conv. The fused Conv writes the Add's output value, so its name survives.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class ConvAddFusion final : public Pass {
 public:
  std::string_view name() const override { return "conv_add_fusion"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
