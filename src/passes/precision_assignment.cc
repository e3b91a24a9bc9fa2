#include "passes/precision_assignment.h"

#include <algorithm>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

bool is_graph_input(const ir::Graph& g, ir::ValueId id) {
  return std::find(g.inputs.begin(), g.inputs.end(), id) != g.inputs.end();
}

ir::ValueId add_converted_value(ir::Graph& g, ir::ValueId like, DataType dtype) {
  ir::Value v = g.value(like);
  v.name = unique_value_name(g, v.name + "_" + to_string(dtype));
  v.dtype = dtype;
  v.constant.reset();
  v.alias_of = ir::kNoValue;
  v.alias_channel_offset = 0;
  return g.add_value(std::move(v));
}

ir::Node reorder_node(const ir::Graph& g, ir::ValueId from, ir::ValueId to) {
  ir::Node r;
  r.name = unique_node_name(g, g.value(to).name + "_convert");
  r.op = ir::OpKind::kReorder;
  r.inputs = {from};
  r.outputs = {to};
  return r;
}

// A graph input read only by Reorders needs no conversion of its own: those Reorders
// convert it (their outputs were retyped).
bool only_reorders_read(const ir::Graph& g, ir::ValueId id) {
  const auto readers = g.consumers(id);
  return !readers.empty() &&
         std::all_of(readers.begin(), readers.end(), [&](size_t i) { return g.nodes()[i].op == ir::OpKind::kReorder; });
}

}  // namespace

Result<PassResult> assign_activation_dtype(ir::Graph& g, DataType dtype) {
  PassResult result;
  if (dtype == DataType::kFloat32) return result;
  size_t retyped = 0;
  for (size_t i = 0; i < g.value_count(); ++i) {
    auto& v = g.value(static_cast<ir::ValueId>(i));
    const auto id = static_cast<ir::ValueId>(i);
    if (v.is_constant() || v.dtype != DataType::kFloat32 || is_graph_input(g, id) || g.is_graph_output(id)) continue;
    v.dtype = dtype;
    ++retyped;
  }
  for (auto in : std::vector<ir::ValueId>(g.inputs)) {
    if (g.value(in).dtype != DataType::kFloat32 || only_reorders_read(g, in)) continue;
    const auto converted = add_converted_value(g, in, dtype);
    for (auto& n : g.nodes())
      for (auto& id : n.inputs)
        if (id == in) id = converted;
    g.add_node(reorder_node(g, in, converted));
    result.changes.push_back("input " + g.value(in).name + " converted to " + to_string(dtype));
  }
  for (auto out : std::vector<ir::ValueId>(g.outputs)) {
    const auto producer = g.producer(out);
    if (g.value(out).dtype != DataType::kFloat32 || !producer) continue;
    if (g.nodes()[*producer].op == ir::OpKind::kReorder) continue;  // it converts already
    const auto computed = add_converted_value(g, out, dtype);
    for (auto& id : g.nodes()[*producer].outputs)
      if (id == out) id = computed;
    for (auto& n : g.nodes())
      for (auto& id : n.inputs)
        if (id == out) id = computed;
    g.add_node(reorder_node(g, computed, out));
    result.changes.push_back("output " + g.value(out).name + " converted from " + to_string(dtype));
  }
  // Every Reorder that now converts says so (shape inference and plan validation read "to").
  for (auto& n : g.nodes()) {
    if (n.op != ir::OpKind::kReorder) continue;
    const DataType from = g.value(n.inputs[0]).dtype, to = g.value(n.outputs[0]).dtype;
    if (from != to) n.attrs.set("to", static_cast<int64_t>(to));
  }
  result.changes.push_back(std::to_string(retyped) + " activations stored as " + to_string(dtype));
  RETURN_IF_ERROR(restore_invariants(g, "precision_assignment"));
  return result;
}

}  // namespace inferd::passes
