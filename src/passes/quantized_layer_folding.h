// Folds the quantization of a layer's input into the layer, so that a backend with INT8
// kernels runs it natively:
//   FakeQuantize{scale, zero_point, qmin, qmax}(x) -> Conv | Gemm(W on an int8 grid)
//     => Conv | Gemm{input_scale, input_qmin, input_qmax, [input_zero_point,] weight_scales}(x, W)
// The folded layer means exactly what the pair meant: X rounded half to even onto the grid
// (x / scale, plus the zero point, saturated to [qmin, qmax], less the zero point: the
// attribute only where it is not 0) and W as it is; weight_scales (one per output
// channel) names W's grid, so that an INT8 kernel recovers W exactly as round(w / scale),
// also from a slice of W's input channels (concat_conv_split's parts). It applies only where
//   - the layer is a Conv, or a Gemm without transA and with a 2-D B (its outputs are B's
//     columns, or its rows with transB),
//   - the FakeQuantize is on the int8 (-128..127) or uint8 (0..255) range, symmetric (zero
//     point 0: calibration's tables, symmetric Q/DQ models) or, where the backend takes it,
//     not (ONNX Runtime's uint8 activations that can be negative; the CPU backend folds
//     those into Convs without padding, the CUDA backend into none); an E4M3 one keeps its
//     FakeQuantize and a float layer (no backend has FP8 kernels yet),
//   - W is constant and on the per-output-channel int8 grid max|w| / 127 (what
//     calibration writes, still true after BatchNorm folding scales each channel), or on
//     one per-tensor grid (int8_weight_scales), so that an INT8 kernel quantizing W with
//     those scales gets W back exactly, and
//   - the backend supports the folded node (ctx.supports; the CPU backend does, with
//     oneDNN's u8/s8 x s8 convolutions and inner products), and
//   - where the build times layers (ctx.time_node), the folded layer is not slower than
//     the float layer plus its FakeQuantize's own pass by more than 5 % (a layer that
//     loses in INT8 stays float behind its FakeQuantize: the same numbers, and the
//     FakeQuantize often becomes the rounding of the convolution before it).
// The FakeQuantize stays for its other readers; dead node elimination removes it when the
// layers were its only ones. Runs after the convolution fusions, so that the fused and
// merged convolutions are what gets folded, and before a second concat_conv_split,
// which splits a folded convolution over the Concat it now reads (SqueezeNet's squeezes).
#pragma once

#include <optional>
#include <vector>

#include "passes/pass.h"

namespace inferd::passes {

class QuantizedLayerFolding final : public Pass {
 public:
  std::string_view name() const override { return "quantized_layer_folding"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

// The int8 grid the constant `w` lies on, as one scale per index c along `axis` (the
// layer's output channels): each channel's own max|w_c| / 127 where every w / scale is
// within 1e-3 of an integer (calibration's weights, Q/DQ models quantized per channel), else
// max|w| / 127 for every channel where that holds (Q/DQ models quantized per tensor, such as
// ONNX Runtime's quantizer writes without per_channel); nothing when W is on neither.
std::optional<std::vector<float>> int8_weight_scales(const Tensor& w, int axis = 0);

}  // namespace inferd::passes
