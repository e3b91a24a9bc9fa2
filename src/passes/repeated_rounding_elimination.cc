#include "passes/repeated_rounding_elimination.h"

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

// The grid attributes of a FakeQuantize, the same for both roundings.
bool same_grid(const ir::Node& a, const ir::Node& b) {
  for (const char* name : {"zero_point", "qmin", "qmax"})
    if (a.attrs.get_int(name, 0) != b.attrs.get_int(name, 0)) return false;
  return a.attrs.get_float("scale", 0) == b.attrs.get_float("scale", 0) &&
         a.attrs.get_string("format", "") == b.attrs.get_string("format", "");
}

// Whether every reader of `pool`'s output is a FakeQuantize on `fq`'s grid (and the output
// is no graph output, which would then hold unrounded values).
bool rounded_again(const ir::Graph& g, const UseIndex& uses, const ir::Node& pool, const ir::Node& fq) {
  if (pool.outputs.size() != 1 || g.is_graph_output(pool.outputs[0])) return false;
  const auto& readers = uses.consumers(pool.outputs[0]);
  if (readers.empty()) return false;
  for (size_t r : readers) {
    const ir::Node& next = g.nodes()[r];
    if (next.op != ir::OpKind::kFakeQuantize || !same_grid(next, fq)) return false;
  }
  return true;
}

}  // namespace

Result<PassResult> RepeatedRoundingElimination::run(ir::Graph& g, const PassContext&) const {
  PassResult result;
  const UseIndex uses(g);
  std::vector<bool> erase(g.nodes().size(), false);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const ir::Node& fq = g.nodes()[i];
    if (fq.op != ir::OpKind::kFakeQuantize || fq.inputs.size() != 1 || fq.outputs.size() != 1) continue;
    const ir::ValueId out = fq.outputs[0];
    const auto& readers = uses.consumers(out);
    if (readers.empty() || g.is_graph_output(out)) continue;
    bool repeated = true;
    for (size_t r : readers) {
      const ir::Node& pool = g.nodes()[r];
      repeated = repeated && pool.op == ir::OpKind::kMaxPool && pool.inputs.size() == 1 && pool.inputs[0] == out &&
                 rounded_again(g, uses, pool, fq);
    }
    if (!repeated) continue;
    result.changes.push_back("removed " + fq.name + " (" + std::to_string(readers.size()) +
                             " max pool(s) behind it round onto its grid again)");
    g.replace_uses(out, fq.inputs[0]);
    erase[i] = true;
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
