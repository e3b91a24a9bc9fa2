// Makes channel Concats free: when every input of a Concat (axis 1) is written by a
// node that can write a channel slice of a larger buffer (ctx.supports_strided_output),
// each input value becomes an alias of the Concat's output at its channel offset
// (Value::alias_of / alias_channel_offset) and the Concat gets attr in_place = 1: its
// inputs already sit where its output is, so its kernel does nothing.
// An input qualifies when the Concat is its only reader, it is no graph input, graph
// output or constant, it is not aliased yet, and its layout equals the output's.
// Nested Concats are flattened: when the Concat's output itself aliases an outer
// buffer, its inputs alias that outer buffer directly (offsets added), so alias_of
// never chains and the memory planner resolves each alias in one step.
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class ConcatElimination final : public Pass {
 public:
  std::string_view name() const override { return "concat_elimination"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
