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
// Activations must be fp32 (the timing inputs are made on the host); any other dtype, a
// node the backend cannot pack, or a kernel failure is returned as the error.
Result<double> time_node(const Backend& backend, const ir::Graph& graph, const ir::Node& node,
                         const NodeTimingOptions& options = {});

}  // namespace inferd
