// Fuses an activation into the Conv, ConvTranspose or Gemm that feeds it:
//   Relu/Clip/LeakyRelu/Sigmoid/HardSigmoid/HardSwish(conv_out) -> Conv{activation=<op>}
// with the activation's parameters copied as attributes: "activation_alpha" and
// "activation_beta" (LeakyRelu, HardSigmoid; not "alpha"/"beta", which Gemm uses for
// itself) and "min"/"max" (Clip). Applies when
// conv_out has the activation as its only reader, is no graph output, the producer has
// no activation yet, and ctx.supports accepts the fused node. Runs after residual
// fusion so that ResNet's Relu(conv + shortcut) becomes one Conv.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class ConvActivationFusion final : public Pass {
 public:
  std::string_view name() const override { return "conv_activation_fusion"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
