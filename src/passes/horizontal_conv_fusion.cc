#include "passes/horizontal_conv_fusion.h"

#include <algorithm>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

// Two stackable Convs compute the same function of their (shared) input up to weights.
bool same_configuration(const ir::Graph& g, const ir::Node& a, const ir::Node& b) {
  const Shape& wa = constant_of(g, a.inputs[1])->shape();
  const Shape& wb = constant_of(g, b.inputs[1])->shape();
  return a.inputs[0] == b.inputs[0] && a.attrs == b.attrs && wa[1] == wb[1] && wa[2] == wb[2] && wa[3] == wb[3];
}

// Groups of >= 2 node indices that can merge; each group in node order. Candidates are
// the other readers of the Conv's input (comparing every pair of nodes was quadratic).
std::vector<std::vector<size_t>> find_groups(const ir::Graph& g) {
  std::vector<std::vector<size_t>> groups;
  std::vector<bool> taken(g.nodes().size(), false);
  const UseIndex uses(g);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    if (taken[i] || !stackable_conv(g, g.nodes()[i])) continue;
    std::vector<size_t> group{i};
    for (size_t j : uses.consumers(g.nodes()[i].inputs[0]))  // ascending node order
      if (j > i && !taken[j] && stackable_conv(g, g.nodes()[j]) && same_configuration(g, g.nodes()[i], g.nodes()[j]))
        group.push_back(j);
    if (group.size() < 2) continue;
    for (size_t k : group) taken[k] = true;
    groups.push_back(std::move(group));
  }
  return groups;
}

struct Merge {
  ir::Node conv;                // the merged Conv
  std::vector<ir::Node> slices; // one per original Conv, in group order
};

Merge build_merge(ir::Graph& g, const std::vector<const ir::Node*>& convs) {
  const Shape& window = constant_of(g, convs[0]->inputs[1])->shape();  // every member's
  auto [w, b] = stacked_conv_parameters(g, convs, window[2], window[3]);
  Merge m;
  m.conv = *convs[0];
  m.conv.name = unique_node_name(g, convs[0]->name + "_hmerged");
  // The convolutions it computes, for profiles and reports ("a||b||c", as the GIE names them).
  m.conv.attrs.set("merged", merged_names(convs));
  Shape out_shape = g.value(convs[0]->outputs[0]).shape;
  out_shape[1] = w.shape()[0];
  m.conv.inputs = {convs[0]->inputs[0], g.add_constant(unique_value_name(g, m.conv.name + "_weight"), std::move(w)),
                   b ? g.add_constant(unique_value_name(g, m.conv.name + "_bias"), std::move(*b)) : ir::kNoValue};
  ir::Value merged_out;
  merged_out.name = unique_value_name(g, m.conv.name + "_out");
  merged_out.shape = out_shape;
  m.conv.outputs = {g.add_value(std::move(merged_out))};
  int64_t start = 0;
  for (const ir::Node* c : convs) {
    const int64_t end = start + g.value(c->outputs[0]).shape[1];
    ir::Node s;
    s.name = unique_node_name(g, c->name + "_slice");
    s.op = ir::OpKind::kSlice;
    s.inputs = {m.conv.outputs[0]};
    s.outputs = c->outputs;
    s.attrs.set("axis", int64_t{1});
    s.attrs.set("start", start);
    s.attrs.set("end", end);
    m.slices.push_back(std::move(s));
    start = end;
  }
  return m;
}

bool merge_supported(const ir::Graph& g, const Merge& m, const PassContext& ctx) {
  if (!ctx.node_supported(g, m.conv)) return false;
  for (const auto& s : m.slices)
    if (!ctx.node_supported(g, s)) return false;
  return true;
}

// Rebuilds the node list: each merged Conv and its Slices take the place of the
// group's first member (all members read the same input, so the order stays
// topological); the other members disappear.
void splice(ir::Graph& g, const std::vector<std::vector<size_t>>& groups, std::vector<Merge> merges) {
  std::vector<int> role(g.nodes().size(), -1);  // -1 keep, -2 drop, k >= 0: emit merge k
  for (size_t k = 0; k < groups.size(); ++k)
    for (size_t i : groups[k]) role[i] = (i == groups[k][0]) ? static_cast<int>(k) : -2;
  std::vector<ir::Node> nodes;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    if (role[i] == -1) nodes.push_back(std::move(g.nodes()[i]));
    if (role[i] < 0) continue;
    Merge& m = merges[static_cast<size_t>(role[i])];
    nodes.push_back(std::move(m.conv));
    for (auto& sl : m.slices) nodes.push_back(std::move(sl));
  }
  g.nodes() = std::move(nodes);
}

}  // namespace

Result<PassResult> HorizontalConvFusion::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  // Groups are disjoint and found on the unchanged node list; building a merge only
  // adds values, so every index stays valid until the single splice at the end.
  std::vector<std::vector<size_t>> accepted;
  std::vector<Merge> merges;
  for (auto& group : find_groups(g)) {
    std::vector<const ir::Node*> convs;
    std::string names;
    for (size_t i : group) {
      convs.push_back(&g.nodes()[i]);
      names += (names.empty() ? "" : ", ") + g.nodes()[i].name;
    }
    Merge m = build_merge(g, convs);
    if (!merge_supported(g, m, ctx)) continue;  // its new values are compacted away
    result.changes.push_back("merged " + names + " -> " + m.conv.name + " + " + std::to_string(group.size()) +
                             " Slices");
    accepted.push_back(std::move(group));
    merges.push_back(std::move(m));
  }
  splice(g, accepted, std::move(merges));
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
