// Shape inference: sets the dtype and shape of every node output from the node's
// inputs and canonical attributes (ir/op.cc), following ONNX semantics per op.
// Only dim 0 (the batch) may be kDynamicDim; an op that would need the batch's
// concrete value (moving it into another axis, gathering along it) fails with an
// unimplemented error naming the node. Every error names the node and what is wrong:
//   "node 'conv3' (Conv): input channels 64 do not match weight 32 x group 1"
#pragma once

#include <cstdint>

#include "core/status.h"
#include "ir/graph.h"

namespace inferd::ir {

// The most elements (and so the largest dim) one tensor may have: 2^31.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 31;

// Walks g.nodes() in order (they must be topologically sorted) and infers each node.
Status infer_shapes(Graph& g);

// Infers one node; the shapes of its inputs must already be known. Importers that
// resolve shape-dependent attributes (auto_pad, negative axes) node by node call this
// right after resolving each node.
Status infer_node_shapes(Graph& g, Node& n);

}  // namespace inferd::ir
