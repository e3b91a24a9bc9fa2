#include "plan/plan_validate.h"

#include <algorithm>
#include <vector>

#include "ir/shape_inference.h"

namespace inferd {
namespace {

Status corrupt(const std::string& what) {
  return data_loss("corrupt plan: " + what);
}

std::string quoted(const ir::Graph& g, ir::ValueId id) {
  return "'" + g.value(id).name + "'";
}

// The pass manager's contract (passes/pass_manager.cc), which every written plan meets.
Status check_dataflow(const ir::Graph& g) {
  std::vector<bool> defined(g.value_count(), false);
  for (size_t i = 0; i < g.value_count(); ++i) defined[i] = g.value(static_cast<ir::ValueId>(i)).is_constant();
  for (ir::ValueId id : g.inputs) {
    if (id == ir::kNoValue || g.value(id).is_constant() || defined[static_cast<size_t>(id)])
      return corrupt("graph input " + (id == ir::kNoValue ? std::string("-1") : quoted(g, id)) +
                     " is missing, a constant or listed twice");
    defined[static_cast<size_t>(id)] = true;
  }
  for (const ir::Node& n : g.nodes()) {
    for (ir::ValueId id : n.inputs) {
      if (id != ir::kNoValue && !defined[static_cast<size_t>(id)])
        return corrupt(ir::describe(g, n) + " reads " + quoted(g, id) + " before any node writes it");
    }
    for (ir::ValueId id : n.outputs) {
      if (id == ir::kNoValue) return corrupt(ir::describe(g, n) + " has an absent output");
      if (defined[static_cast<size_t>(id)])
        return corrupt(ir::describe(g, n) + " writes " + quoted(g, id) + ", already defined");
      defined[static_cast<size_t>(id)] = true;
    }
  }
  if (g.outputs.empty()) return corrupt("the graph has no outputs");
  for (ir::ValueId id : g.outputs) {
    if (id == ir::kNoValue || !defined[static_cast<size_t>(id)] || g.value(id).is_constant())
      return corrupt("a graph output is never computed");
  }
  return Status::ok();
}

bool is_graph_input(const ir::Graph& g, ir::ValueId id) {
  return std::find(g.inputs.begin(), g.inputs.end(), id) != g.inputs.end();
}

// Concat elimination's aliases (passes/concat_elimination.cc): an activation living in a
// channel range of another, flattened to the final target, same rank, layout and other dims.
Status check_alias(const ir::Graph& g, ir::ValueId id) {
  const ir::Value& v = g.value(id);
  if (v.alias_of == ir::kNoValue) return Status::ok();
  const ir::Value& t = g.value(v.alias_of);
  const std::string what = quoted(g, id) + " aliased into " + quoted(g, v.alias_of);
  if (v.alias_of == id || t.alias_of != ir::kNoValue || t.is_constant() || v.is_constant() || is_graph_input(g, id))
    return corrupt(what + ": only a computed value may live inside another, which lives in none");
  if (v.shape.size() != t.shape.size() || v.shape.size() < 2 || v.layout != t.layout)
    return corrupt(what + ": rank or layout differ");
  for (size_t d = 0; d < v.shape.size(); ++d) {
    if (d != 1 && v.shape[d] != t.shape[d]) return corrupt(what + ": dim " + std::to_string(d) + " differs");
  }
  if (v.alias_channel_offset < 0 || v.alias_channel_offset > t.shape[1] - v.shape[1])
    return corrupt(what + ": channels " + std::to_string(v.alias_channel_offset) + "+" + std::to_string(v.shape[1]) +
                   " are outside its " + std::to_string(t.shape[1]));
  return Status::ok();
}

Status check_values(const ir::Graph& g) {
  for (size_t i = 0; i < g.value_count(); ++i) {
    const auto id = static_cast<ir::ValueId>(i);
    if (g.value(id).layout == ir::Layout::kNHWC && g.value(id).shape.size() != 4)
      return corrupt(quoted(g, id) + " is NHWC but has rank " + std::to_string(g.value(id).shape.size()));
    RETURN_IF_ERROR(check_alias(g, id));
  }
  return Status::ok();
}

// Shape inference sets the output's dtype and shape; they must be the stored ones.
Status check_shapes(ir::Graph& g) {
  for (ir::Node& n : g.nodes()) {
    if (n.outputs.size() != 1)
      return corrupt(ir::describe(g, n) + " has " + std::to_string(n.outputs.size()) + " outputs");
    const Shape stored_shape = g.value(n.outputs[0]).shape;
    const DataType stored_dtype = g.value(n.outputs[0]).dtype;
    if (Status s = ir::infer_node_shapes(g, n); !s.is_ok()) return corrupt(s.message());
    const ir::Value& inferred = g.value(n.outputs[0]);
    if (inferred.shape != stored_shape || inferred.dtype != stored_dtype)
      return corrupt(ir::describe(g, n) + " stores " + quoted(g, n.outputs[0]) + " as " + to_string(stored_dtype) +
                     to_string(stored_shape) + " but its inputs give " + to_string(inferred.dtype) +
                     to_string(inferred.shape));
  }
  return Status::ok();
}

}  // namespace

Status validate_plan_graph(ir::Graph& graph) {
  RETURN_IF_ERROR(check_dataflow(graph));
  RETURN_IF_ERROR(check_values(graph));
  return check_shapes(graph);
}

}  // namespace inferd
