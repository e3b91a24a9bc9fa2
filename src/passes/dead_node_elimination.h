// Drops nodes none of whose outputs reach a graph output, then the values (constants
// included) nothing mentions any more. Runs after folding and again at the very end.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class DeadNodeElimination final : public Pass {
 public:
  std::string_view name() const override { return "dead_node_elimination"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
