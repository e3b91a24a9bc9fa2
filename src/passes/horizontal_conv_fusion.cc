#include "passes/horizontal_conv_fusion.h"

#include <algorithm>
#include <cstring>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

// Whether Conv `n` may take part in a merge at all.
bool mergeable(const ir::Graph& g, const ir::Node& n) {
  if (n.op != ir::OpKind::kConv || n.inputs.empty() || n.outputs.size() != 1) return false;
  if (n.attrs.get_int("group", 1) != 1 || input_or_none(n, 3) != ir::kNoValue) return false;
  const Tensor* w = constant_of(g, input_or_none(n, 1));
  if (!w || w->dtype() != DataType::kFloat32 || w->shape().size() != 4) return false;
  const ir::ValueId b = input_or_none(n, 2);
  const Tensor* bias = constant_of(g, b);
  if (b != ir::kNoValue && (!bias || bias->dtype() != DataType::kFloat32 || bias->size() != w->shape()[0])) return false;
  const Shape& out = g.value(n.outputs[0]).shape;
  return out.size() == 4 && out[1] == w->shape()[0];
}

// Two mergeable Convs compute the same function of their (shared) input up to weights.
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
    if (taken[i] || !mergeable(g, g.nodes()[i])) continue;
    std::vector<size_t> group{i};
    for (size_t j : uses.consumers(g.nodes()[i].inputs[0]))  // ascending node order
      if (j > i && !taken[j] && mergeable(g, g.nodes()[j]) && same_configuration(g, g.nodes()[i], g.nodes()[j]))
        group.push_back(j);
    if (group.size() < 2) continue;
    for (size_t k : group) taken[k] = true;
    groups.push_back(std::move(group));
  }
  return groups;
}

// Concatenates the members' weights (and biases, zero where a member has none).
std::pair<Tensor, std::optional<Tensor>> merged_parameters(const ir::Graph& g, const std::vector<const ir::Node*>& convs) {
  int64_t out_channels = 0;
  bool any_bias = false;
  for (const ir::Node* c : convs) {
    out_channels += constant_of(g, c->inputs[1])->shape()[0];
    any_bias = any_bias || input_or_none(*c, 2) != ir::kNoValue;
  }
  Shape w_shape = constant_of(g, convs[0]->inputs[1])->shape();
  w_shape[0] = out_channels;
  Tensor w(DataType::kFloat32, w_shape);
  std::optional<Tensor> b;
  if (any_bias) b.emplace(DataType::kFloat32, Shape{out_channels});  // zero-filled
  size_t w_at = 0, b_at = 0;
  for (const ir::Node* c : convs) {
    const Tensor& cw = *constant_of(g, c->inputs[1]);
    std::memcpy(w.raw() + w_at, cw.raw(), cw.byte_size());
    w_at += cw.byte_size();
    if (const Tensor* cb = constant_of(g, input_or_none(*c, 2))) std::memcpy(b->raw() + b_at, cb->raw(), cb->byte_size());
    b_at += static_cast<size_t>(cw.shape()[0]) * sizeof(float);
  }
  return {std::move(w), std::move(b)};
}

struct Merge {
  ir::Node conv;                // the merged Conv
  std::vector<ir::Node> slices; // one per original Conv, in group order
};

Merge build_merge(ir::Graph& g, const std::vector<const ir::Node*>& convs) {
  auto [w, b] = merged_parameters(g, convs);
  Merge m;
  m.conv = *convs[0];
  m.conv.name = unique_node_name(g, convs[0]->name + "_hmerged");
  // The convolutions it computes, for profiles and reports ("a||b||c", as the GIE names them).
  std::string merged;
  for (const ir::Node* c : convs) merged += (merged.empty() ? "" : "||") + c->name;
  m.conv.attrs.set("merged", merged);
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
