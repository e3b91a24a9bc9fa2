#include "passes/concat_elimination.h"

#include <algorithm>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

bool is_graph_input(const ir::Graph& g, ir::ValueId id) {
  return std::find(g.inputs.begin(), g.inputs.end(), id) != g.inputs.end();
}

// Whether input `x` of the Concat at `concat_index` may live inside the output `out`.
bool can_alias(const ir::Graph& g, size_t concat_index, ir::ValueId x, ir::ValueId out, const PassContext& ctx) {
  if (x == ir::kNoValue) return false;
  const ir::Value& v = g.value(x);
  const ir::Value& o = g.value(out);
  if (v.is_constant() || is_graph_input(g, x) || v.alias_of != ir::kNoValue || v.layout != o.layout) return false;
  if (v.shape.size() != o.shape.size() || v.shape.size() < 2) return false;
  if (only_reader(g, x) != concat_index) return false;  // also rules out graph outputs
  const auto p = g.producer(x);
  return p && ctx.strided_output_supported(g, g.nodes()[*p]);
}

// The channel axis test: Concat along dim 1 (negative axes counted from the end).
bool concats_channels(const ir::Graph& g, const ir::Node& n) {
  if (n.op != ir::OpKind::kConcat || n.outputs.size() != 1 || n.inputs.empty()) return false;
  if (n.attrs.get_int("in_place", 0) != 0) return false;
  const ir::Value& out = g.value(n.outputs[0]);
  int64_t axis = n.attrs.get_int("axis", 1);
  if (axis < 0) axis += static_cast<int64_t>(out.shape.size());
  return axis == 1 && !out.is_constant();
}

}  // namespace

Result<PassResult> ConcatElimination::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  // Outer Concats first (reverse topological order), so an inner Concat sees whether
  // its output already lives inside an outer one and flattens the alias.
  for (size_t i = g.nodes().size(); i-- > 0;) {
    ir::Node& n = g.nodes()[i];
    if (!concats_channels(g, n)) continue;
    const ir::ValueId out = n.outputs[0];
    const bool all = std::all_of(n.inputs.begin(), n.inputs.end(),
                                 [&](ir::ValueId x) { return can_alias(g, i, x, out, ctx); });
    if (!all) continue;
    const ir::Value& o = g.value(out);
    const ir::ValueId target = o.alias_of != ir::kNoValue ? o.alias_of : out;
    int64_t offset = o.alias_of != ir::kNoValue ? o.alias_channel_offset : 0;
    std::string line = "in place " + n.name + ":";
    for (ir::ValueId x : n.inputs) {
      ir::Value& v = g.value(x);
      v.alias_of = target;
      v.alias_channel_offset = offset;
      line += " " + v.name + "@" + std::to_string(offset);
      offset += v.shape[1];
    }
    n.attrs.set("in_place", int64_t{1});
    result.changes.push_back(line + " in " + g.value(target).name);
  }
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
