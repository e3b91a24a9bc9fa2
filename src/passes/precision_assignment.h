// Precision assignment: stores every activation in `dtype` (fp16, bf16) for a backend that
// computes in it, while the graph's inputs and outputs stay fp32 for the user. A Reorder
// converts at each boundary; a Reorder the layout pass already placed there converts layout
// and dtype in one step. Weights stay fp32 in the plan: the backend converts them when it
// packs them. Run after the optimizer passes (it does not change what they matched).
#pragma once

#include "core/status.h"
#include "core/tensor.h"
#include "ir/graph.h"
#include "passes/pass.h"

namespace inferd::passes {

Result<PassResult> assign_activation_dtype(ir::Graph& graph, DataType dtype);

}  // namespace inferd::passes
