// A readable text dump of a graph, one line per node, for `inferd build --report`,
// debugging and tests:
//   graph squeezenet
//   inputs: %data_0[N,3,224,224]
//   outputs: %softmaxout_1[N,1000,1,1]
//   %conv1_1[N,64,111,111] = Conv(%data_0[N,3,224,224], %conv1_w_0[64x3x3x3]) {dilations=[1,1], ...}
// Activations show their shape as [d0,d1,...] (N for the dynamic batch); constants show
// only their shape, joined with 'x'; non-float32 dtypes, NHWC layout and concat aliases
// are appended (":int64", ":nhwc", "@%concat+64"); an absent optional input prints as "-";
// a node name that differs from its output's name ends the line as "  # name".
#pragma once

#include <string>

#include "ir/graph.h"

namespace inferd::ir {

std::string print_graph(const Graph& g);

// One value as printed in node lines ("%x[1,64,56,56]:nhwc").
std::string print_value(const Graph& g, ValueId id);

}  // namespace inferd::ir
