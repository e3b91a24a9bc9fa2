// The checks deserialize_plan makes on a graph read from a plan file. Internal to plan/.
#pragma once

#include "core/status.h"
#include "ir/graph.h"

namespace inferd {

// Holds the graph to what the builder guarantees of every plan it writes, so that a
// damaged or hostile plan fails to load instead of handing the kernels values that do
// not fit together: graph inputs are activations; nodes are in topological order and
// write each value once, before any read; a concat alias lies inside its target's
// channels; NHWC values are 4-D; and shape inference, run again on each node's inputs
// and attributes, gives the output dtype and shape the plan stores.
// Errors are data_loss("corrupt plan: ...") naming the node or value.
Status validate_plan_graph(ir::Graph& graph);

}  // namespace inferd
