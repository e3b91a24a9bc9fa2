// Nodes whose inputs are all constants become constants. Shape of a fully static
// value folds too (its input need not be constant). Data movement and int64 shape
// arithmetic are computed here (fold_builtin.h); other ops (float math on weights)
// go through PassContext::evaluate when the backend provides it, else they stay.
// A Shape of a value with a dynamic batch stays: the backend's supports() rejects
// it later with a clear error. Nodes writing a graph output stay, so every graph
// output remains computed by a node.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class ConstantFolding final : public Pass {
 public:
  std::string_view name() const override { return "constant_folding"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
