// Removes Identity nodes (the importer maps Dropout and other no-ops at inference to
// Identity). Readers of the Identity's output read its input instead. When the output
// is a graph output its name must survive, so the input's producer is rewired to write
// the output value directly. An Identity copying a graph input or a constant straight
// to a graph output stays: there is no producer to rewire.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class IdentityElimination final : public Pass {
 public:
  std::string_view name() const override { return "identity_elimination"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
