// Folds a FakeQuantize into the convolution that produces its input:
//   Conv{...}(x) -> FakeQuantize{scale, zero_point, qmin, qmax}
//     => Conv{..., output_scale, output_zero_point, output_qmin, output_qmax}(x)
// The fused Conv means what the pair meant: its result (after bias, residual and fused
// activation) rounded half to even onto the FakeQuantize's grid, as the reference kernel's
// quantized_level() computes it, and written in float.
//
// Why: calibration puts a FakeQuantize in front of every quantized layer, and where the
// backend runs that layer in float (the CPU backend's depthwise convolutions and RGB
// stems), the FakeQuantize stays as a pass of its own over the activation: a quarter of
// MobileNetV2's INT8 time on the CPU. Fused, the rounding is four elementwise post-ops
// of the convolution that writes the activation anyway.
//
// It applies where the FakeQuantize reads a Conv's output (which is no graph output) whose
// other readers, if any, are INT8 layers quantizing it onto the FakeQuantize's own grid
// (quantized_layer_folding folds a FakeQuantize into the INT8 readers and leaves it for
// the float ones): those read the rounded values from then on, which they round to the same
// levels. And the backend must support the fused node. Runs after
// quantized_layer_folding (which removes the FakeQuantize nodes whose readers quantize
// their inputs themselves) and after the second concat_conv_split (a convolution split
// over a Concat's inputs is a chain of partial sums: only its last part may round).
#pragma once

#include <optional>

#include "passes/pass.h"

namespace inferd::passes {

class UseIndex;

// The Conv that would take nodes()[fq_index] (a FakeQuantize) as its output rounding: the
// producer of its input, when that value's other readers requantize onto the same grid (see
// above) and the Conv rounds nothing yet. (Whether the backend supports the fused node is the pass's question.)
std::optional<size_t> rounding_conv(const ir::Graph& g, const UseIndex& uses, size_t fq_index);
// That Conv as it would be with the FakeQuantize as its output rounding (output_scale,
// ..., writing the FakeQuantize's output), where the backend supports it: what the pass
// makes of it.
std::optional<ir::Node> conv_with_rounding(const ir::Graph& g, const UseIndex& uses, size_t fq_index,
                                           const PassContext& ctx);

class OutputQuantizationFusion final : public Pass {
 public:
  std::string_view name() const override { return "output_quantization_fusion"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
