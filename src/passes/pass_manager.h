// THE pass order (one list, in pass_manager.cc) and the driver that runs it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "passes/pass.h"

namespace inferd::passes {

struct PassReport {
  std::string pass;
  size_t nodes_before = 0;
  size_t nodes_after = 0;
  std::vector<std::string> changes;
  double ms = 0;
};

// The optimizer's passes in the order they run.
std::vector<std::unique_ptr<Pass>> default_pass_order();

// Runs `passes` in order, logging one `event=pass` line per pass, and checks after each
// that the graph is still well formed (an error then names the pass: a bug in it).
Result<std::vector<PassReport>> run_passes(ir::Graph& graph, const PassContext& ctx,
                                           const std::vector<std::unique_ptr<Pass>>& passes);

// run_passes(graph, ctx, default_pass_order()), without the passes named in `disabled`
// (for measuring what a pass buys: `inferd build --disable-pass`); an unknown name fails,
// listing the passes there are.
Result<std::vector<PassReport>> optimize(ir::Graph& graph, const PassContext& ctx,
                                         const std::vector<std::string>& disabled = {});

}  // namespace inferd::passes
