// Explicit quantization (ONNX Q/DQ models, as ONNX Runtime's and PyTorch's quantizers
// write them): DequantizeLinear of a constant becomes the float constant it denotes
// (exact: (q - zero_point) * scale, per tensor or per channel), and a QuantizeLinear whose
// readers are all DequantizeLinear with the same parameters becomes one FakeQuantize: the
// activation rounded to the int8/uint8 grid, in float (FP8 Q/DQ, opset 19's FLOAT8E4M3FN: to
// the E4M3 values, FakeQuantize's format "e4m3"). The numerics are those of an int8
// engine running the same model (a convolution sees exactly the quantized input and
// weights); the int8 kernels that will run these patterns natively replace the float
// convolution, not the meaning. Any other use of Q or DQ (an int8 graph input or output,
// a Q read by something else) is refused naming the node.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class QdqFolding final : public Pass {
 public:
  std::string_view name() const override { return "qdq_folding"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
