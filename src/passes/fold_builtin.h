// The ops constant folding computes itself, without a backend: data movement on
// constants of any dtype (Identity, Reshape, Flatten, Squeeze, Unsqueeze, Concat,
// Gather, Slice, Shape) and int64 Add/Mul. These are the shape-arithmetic chains that
// exporters emit (Shape -> Gather -> Unsqueeze -> Concat -> Reshape); folding them
// turns the Reshape's target shape into the constant the kernels expect.
#pragma once

#include <optional>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace inferd::passes {

// Output tensors of `node` given its constant inputs (following node.inputs; nullptr
// for an absent optional), std::nullopt when the op is not one of the above, or an
// error when the constants are inconsistent with the op (a malformed model).
Result<std::optional<std::vector<Tensor>>> fold_builtin(const ir::Graph& g, const ir::Node& node,
                                                        const std::vector<const Tensor*>& inputs);

// The int64 tensor [d0, d1, ...] of `shape` restricted to [start, end) (ONNX Shape
// opset 15 semantics, negative bounds count from the end).
Tensor shape_tensor(const Shape& shape, int64_t start, int64_t end);

}  // namespace inferd::passes
