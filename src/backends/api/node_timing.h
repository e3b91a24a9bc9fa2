// Times one node on a backend, alone: what a build-time choice between two versions of a
// layer measures (an INT8 convolution against its float version, passes/pass.h's
// PassContext::time_node), the way Backend::tune() times kernel variants.
#pragma once

#include <cstdint>
#include <string_view>

#include "backends/api/backend.h"
#include "core/status.h"
#include "ir/graph.h"

namespace inferd {

struct NodeTimingOptions {
  int batch = 8;  // the activations' first dimension
  int warmup = 2;
  int runs = 7;
  std::string_view precision = "fp32";
  uint32_t seed = 1;
};

// The median milliseconds of one enqueue of `node` plus its synchronization. The node is
// packed alone, in a graph of its own whose activations have dimension 0 = options.batch
// and the layout the backend prefers for the node (the layout passes have not assigned yet
// when a pass asks); activations hold random values in [-1, 1) (a block of up to 1M of them,
// repeated), constants are the graph's.
// The graph's activations must be fp32 (the passes that time layers run before precision
// assignment); they are timed in the dtype the backend stores them in at
// options.precision (fp16 on a GPU for an fp16 plan), as the plan will run them: an fp16
// plan's layers timed on fp32 activations took up to twice their time in the plan
// (ResNet-50's convolutions on an H100, 2026-12-06), and the INT8 clock chose INT8 layers
// that were slower in the plan. Any other dtype, a node the backend cannot pack, or a
// kernel failure is returned as the error.
Result<double> time_node(const Backend& backend, const ir::Graph& graph, const ir::Node& node,
                         const NodeTimingOptions& options = {});

}  // namespace inferd
