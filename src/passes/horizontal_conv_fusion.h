// Merges sibling Convs into one wider Conv (GoogLeNet's inception 1x1 branches):
// Convs reading the same input with equal attributes (strides, pads, dilations,
// group == 1, fused activation and its parameters), equal kernel size, constant
// weights and no residual become one Conv whose weights and bias are the
// concatenation along output channels, followed by one Slice (axis=1, start, end) per
// original Conv writing that Conv's output value (names kept). One large GEMM uses
// the machine better than several thin ones and reads the input once.
// Applies only when ctx.supports accepts the merged Conv and the Slices.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class HorizontalConvFusion final : public Pass {
 public:
  std::string_view name() const override { return "horizontal_conv_fusion"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
