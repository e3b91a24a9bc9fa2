// Chooses the memory layout of every 4-D activation value. A value takes the layout
// ctx.preferred_layout gives its producer (graph inputs: kNCHW); each reader that
// prefers the other layout reads a Reorder of it instead, one Reorder per value and
// layout, named "<value>_nchw" / "<value>_nhwc". Graph outputs are always kNCHW: when
// their producer prefers kNHWC it writes "<value>_nhwc" and a Reorder writes the output
// (name kept). Shapes stay logical NCHW; only Value::layout changes.
// A value with H*W == 1 has the same bytes in both layouts: it is tagged kNCHW and
// never reordered, so kernels may treat it as either.
// Reorder nodes already in the graph keep the layouts of their values (re-running the
// pass adds nothing).
#pragma once

#include "passes/pass.h"

namespace inferd::passes {

class LayoutAssignment final : public Pass {
 public:
  std::string_view name() const override { return "layout_assignment"; }
  Result<PassResult> run(ir::Graph& graph, const PassContext& ctx) const override;
};

}  // namespace inferd::passes
