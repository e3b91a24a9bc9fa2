// Splits a 1x1 convolution of a channel Concat into a chain of convolutions, one per
// Concat input, that accumulate through the residual input (SqueezeNet's fire modules):
//   y = Conv1x1(Concat(x1..xk), W, B [, R]) {act}
// becomes
//   t1 = Conv(x1, W[:, 0:c1], B [, R])
//   t2 = Conv(x2, W[:, c1:c2], -, R = t1)
//   ...
//   y  = Conv(xk, W[:, ..:C], -, R = t(k-1)) {act}
// A 1x1 convolution is a matrix product over channels, so the sum of the products of
// the channel blocks equals the product of the concatenation; the Concat's copy
// disappears, and because each t(i) dies at the next Conv the memory planner lets that
// Conv write over it (one buffer for the whole chain, no copy of R into the output).
// Why a pass: on backends where a Conv cannot write a channel slice efficiently
// (oneDNN 2.6 on the CPU), concat elimination declines and the Concat is a real copy.
//
// Applies when the Concat (axis 1, not in place, >= 2 inputs) has the Conv as its only
// reader and is no graph output; the Conv reads it as X, has constant float32 OIHW
// weights with a 1x1 kernel, group 1, zero pads, dilation 1 (any stride); and
// ctx.supports accepts every Conv of the chain. y keeps its value (and its name); the
// last Conv of the chain keeps the node's name and its fused activation.
// Runs after conv_add_fusion / conv_activation_fusion (so R and act are already fused)
// and before horizontal fusion and layout assignment (so the chain gets its layouts).
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class ConcatConvSplit final : public Pass {
 public:
  std::string_view name() const override { return "concat_conv_split"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
