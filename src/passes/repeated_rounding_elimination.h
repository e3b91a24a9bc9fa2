// Removes a rounding that a later one repeats:
//   FakeQuantize{grid}(x) -> MaxPool -> FakeQuantize{grid} [every reader of the pool]
//     => MaxPool(x) -> FakeQuantize{grid}
// where every reader of the first FakeQuantize is such a MaxPool. The function is the same:
// rounding onto a grid is monotonic, so the max of rounded values is the rounded max, and
// rounding a value already on the grid leaves it there. ONNX Runtime's quantizer writes this
// shape (a Q/DQ pair in front of each max pool and another behind it, on one grid): the first
// pair was a pass of its own over the pool's larger input, 0.19 ms of SqueezeNet's 2.0 ms at
// batch 1 on the 2-core VM. The second one then folds into the INT8 layers reading the pool.
// Runs right after qdq_folding, before the passes that fold FakeQuantize nodes into layers.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class RepeatedRoundingElimination final : public Pass {
 public:
  std::string_view name() const override { return "repeated_rounding_elimination"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
