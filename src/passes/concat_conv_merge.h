// Merges the convolutions feeding a channel Concat into one convolution whose output is
// the Concat (SqueezeNet's fire modules: expand1x1 and expand3x3 of one squeeze output):
//   y = Concat(axis 1)(Conv(x, W1, B1) {act}, ..., Conv(x, Wk, Bk) {act})
// becomes
//   y = Conv(x, W, B) {act}
// where W stacks W1..Wk along output channels in Concat order, each kernel centred in the
// largest window with zeros around it, and B stacks the biases (zeros for a member
// without one; none when no member has one). A zero-padded kernel whose pads are larger
// by the same margin reads exactly the input pixels the small one read, so y is
// unchanged; the Concat's copy (or its strided writes) and all but one launch go away.
//
// Applies when the Concat (axis 1 of 4-D float values, >= 2 inputs, not in place) reads
// only Conv outputs, each read by the Concat alone and no graph output, and those Convs
// read the same X with group 1, no residual, constant float32 OIHW weights, an optional
// constant float32 bias, and equal attributes except the window (kernel_shape, pads)
// and names ("merged"): strides, dilations and fused activation alike. One member's
// window must hold every other's centred: (KH - kh) and (KW - kw) even, and each pad
// smaller by exactly half of that on its side; dilations must be 1 when kernels differ.
// y keeps its value (and name); the Conv is named after the first member
// (`<name>_cmerged`) and lists the members in attr "merged".
//
// Equal windows add no work, so they merge whenever ctx.supports accepts the merged Conv.
// Padding a 1x1 into a 3x3 multiplies that branch's multiply-adds by 9, a loss where
// convolutions are compute-bound (oneDNN on the CPU), so different windows also need
// ctx.prefers_padded_window_merge (the GPU backend says yes).
// Runs after conv_activation_fusion (the members carry their activations) and before
// concat_conv_split, which would otherwise split the next 1x1 Conv over this Concat.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class ConcatConvMerge final : public Pass {
 public:
  std::string_view name() const override { return "concat_conv_merge"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
