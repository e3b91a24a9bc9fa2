#include "passes/dead_node_elimination.h"

#include <algorithm>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

size_t count_constants(const ir::Graph& g) {
  size_t n = 0;
  for (size_t i = 0; i < g.value_count(); ++i) n += g.value(static_cast<ir::ValueId>(i)).is_constant() ? 1 : 0;
  return n;
}

}  // namespace

Result<PassResult> DeadNodeElimination::run(ir::Graph& g, const PassContext&) const {
  PassResult result;
  // Live values, marked backwards from the graph outputs; with the nodes in
  // topological order one reverse sweep sees every reader before its producer.
  std::vector<bool> live(g.value_count(), false);
  for (ir::ValueId id : g.outputs) live[static_cast<size_t>(id)] = true;
  const size_t count = g.nodes().size();
  std::vector<bool> erase(count, false);
  for (size_t i = count; i-- > 0;) {
    const ir::Node& n = g.nodes()[i];
    const bool needed = std::any_of(n.outputs.begin(), n.outputs.end(),
                                    [&](ir::ValueId id) { return live[static_cast<size_t>(id)]; });
    if (!needed) {
      erase[i] = true;
      result.changes.push_back("removed " + n.name + " (" + std::string(ir::to_string(n.op)) +
                               "): no output reaches a graph output");
      continue;
    }
    for (ir::ValueId id : n.inputs)
      if (id != ir::kNoValue) live[static_cast<size_t>(id)] = true;
  }
  std::reverse(result.changes.begin(), result.changes.end());  // graph order reads better
  const size_t constants_before = count_constants(g);
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  const size_t dropped = constants_before - count_constants(g);
  if (dropped > 0) result.changes.push_back("dropped " + std::to_string(dropped) + " unused constants");
  return result;
}

}  // namespace inferd::passes
