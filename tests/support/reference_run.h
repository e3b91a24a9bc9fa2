// A tiny graph interpreter over the reference kernels: the oracle for pass tests
// and backend tests. Dense NCHW tensors everywhere; value layouts and concat
// aliases in the graph are ignored (they change memory, not meaning).
#pragma once

#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace inferd::test {

// `inputs` follow graph.inputs; the batch is their dim 0. Returns graph.outputs.
Result<std::vector<Tensor>> reference_run(const ir::Graph& graph, const std::vector<Tensor>& inputs);

}  // namespace inferd::test
