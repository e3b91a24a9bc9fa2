#include "passes/identity_elimination.h"

#include <algorithm>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

// Makes the producer of `in` write `out` instead, so that `out` (a graph output) keeps
// its name; every other reader of `in` reads `out`. False when `in` has no producer or
// is itself bound to the graph (a graph input/output whose name must also survive).
bool rewire_producer(ir::Graph& g, ir::ValueId in, ir::ValueId out) {
  const auto producer = g.producer(in);
  const bool bound = g.is_graph_output(in) ||
                     std::find(g.inputs.begin(), g.inputs.end(), in) != g.inputs.end();
  if (!producer || bound) return false;
  for (auto& id : g.nodes()[*producer].outputs)
    if (id == in) id = out;
  g.replace_uses(in, out);
  return true;
}

}  // namespace

Result<PassResult> IdentityElimination::run(ir::Graph& g, const PassContext&) const {
  PassResult result;
  std::vector<bool> erase(g.nodes().size(), false);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const ir::Node& n = g.nodes()[i];
    if (n.op != ir::OpKind::kIdentity || n.inputs.size() != 1 || n.outputs.size() != 1) continue;
    const ir::ValueId in = n.inputs[0];
    const ir::ValueId out = n.outputs[0];
    if (in == ir::kNoValue) continue;
    const std::string node_name = n.name;
    if (!g.is_graph_output(out)) {
      g.replace_uses(out, in);
    } else if (!rewire_producer(g, in, out)) {
      continue;
    }
    erase[i] = true;
    result.changes.push_back("removed " + node_name + " (" + g.value(in).name + " -> " + g.value(out).name + ")");
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
