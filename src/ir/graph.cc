#include "ir/graph.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace inferd::ir {

int64_t Attributes::get_int(const std::string& name, int64_t fallback) const {
  auto it = map_.find(name);
  if (it == map_.end()) return fallback;
  if (auto* v = std::get_if<int64_t>(&it->second)) return *v;
  if (auto* f = std::get_if<float>(&it->second)) return static_cast<int64_t>(*f);
  return fallback;
}

float Attributes::get_float(const std::string& name, float fallback) const {
  auto it = map_.find(name);
  if (it == map_.end()) return fallback;
  if (auto* v = std::get_if<float>(&it->second)) return *v;
  if (auto* i = std::get_if<int64_t>(&it->second)) return static_cast<float>(*i);
  return fallback;
}

std::string Attributes::get_string(const std::string& name, const std::string& fallback) const {
  auto it = map_.find(name);
  if (it == map_.end()) return fallback;
  if (auto* v = std::get_if<std::string>(&it->second)) return *v;
  return fallback;
}

std::vector<int64_t> Attributes::get_ints(const std::string& name, std::vector<int64_t> fallback) const {
  auto it = map_.find(name);
  if (it == map_.end()) return fallback;
  if (auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  return fallback;
}

std::vector<float> Attributes::get_floats(const std::string& name, std::vector<float> fallback) const {
  auto it = map_.find(name);
  if (it == map_.end()) return fallback;
  if (auto* v = std::get_if<std::vector<float>>(&it->second)) return *v;
  return fallback;
}

ValueId Graph::add_value(Value v) {
  const auto id = static_cast<ValueId>(values_.size());
  first_by_name_.emplace(v.name, id);  // keeps the first value of a name
  values_.push_back(std::move(v));
  return id;
}

ValueId Graph::add_constant(std::string name, Tensor t) {
  Value v;
  v.name = std::move(name);
  v.dtype = t.dtype();
  v.shape = t.shape();
  v.constant = std::move(t);
  return add_value(std::move(v));
}

Node& Graph::add_node(Node n) {
  nodes_.push_back(std::move(n));
  return nodes_.back();
}

std::optional<ValueId> Graph::find_value(const std::string& name) const {
  const auto it = first_by_name_.find(name);
  if (it == first_by_name_.end()) return std::nullopt;
  return it->second;
}

std::string Graph::unique_value_name(const std::string& base) const {
  if (!find_value(base)) return base;
  int& next = next_name_suffix_[base];
  for (next = std::max(next, 2);; ++next) {
    std::string candidate = base + "_" + std::to_string(next);
    if (!find_value(candidate)) return candidate;
  }
}

std::vector<size_t> Graph::consumers(ValueId id) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (std::find(nodes_[i].inputs.begin(), nodes_[i].inputs.end(), id) != nodes_[i].inputs.end())
      out.push_back(i);
  return out;
}

std::optional<size_t> Graph::producer(ValueId id) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (std::find(nodes_[i].outputs.begin(), nodes_[i].outputs.end(), id) != nodes_[i].outputs.end())
      return i;
  return std::nullopt;
}

bool Graph::is_graph_output(ValueId id) const {
  return std::find(outputs.begin(), outputs.end(), id) != outputs.end();
}

void Graph::replace_uses(ValueId from, ValueId to) {
  for (auto& n : nodes_)
    for (auto& in : n.inputs)
      if (in == from) in = to;
  for (auto& out : outputs)
    if (out == from) out = to;
}

void Graph::compact() {
  std::vector<bool> used(values_.size(), false);
  auto mark = [&](ValueId id) {
    if (id != kNoValue) used[static_cast<size_t>(id)] = true;
  };
  for (const auto& n : nodes_) {
    for (auto id : n.inputs) mark(id);
    for (auto id : n.outputs) mark(id);
  }
  for (auto id : inputs) mark(id);
  for (auto id : outputs) mark(id);
  // An alias target must survive as long as its alias does.
  for (size_t i = 0; i < values_.size(); ++i)
    if (used[i] && values_[i].alias_of != kNoValue) mark(values_[i].alias_of);

  std::vector<ValueId> remap(values_.size(), kNoValue);
  std::vector<Value> kept;
  for (size_t i = 0; i < values_.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<ValueId>(kept.size());
    kept.push_back(std::move(values_[i]));
  }
  auto fix = [&](ValueId& id) {
    if (id != kNoValue) id = remap[static_cast<size_t>(id)];
  };
  for (auto& n : nodes_) {
    for (auto& id : n.inputs) fix(id);
    for (auto& id : n.outputs) fix(id);
  }
  for (auto& id : inputs) fix(id);
  for (auto& id : outputs) fix(id);
  for (auto& v : kept) fix(v.alias_of);
  values_ = std::move(kept);
  first_by_name_.clear();
  for (size_t i = 0; i < values_.size(); ++i) first_by_name_.emplace(values_[i].name, static_cast<ValueId>(i));
}

// Kahn's algorithm: linear in nodes + edges, so a hostile model listing its nodes
// in reverse order costs no more than a well-ordered one.
Status Graph::sort_topologically() {
  std::vector<int64_t> producer_of(values_.size(), -1);
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (auto id : nodes_[i].outputs) producer_of[static_cast<size_t>(id)] = static_cast<int64_t>(i);
  std::vector<std::vector<size_t>> readers(nodes_.size());
  std::vector<size_t> waiting(nodes_.size(), 0);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    for (auto id : nodes_[i].inputs) {
      if (id == kNoValue) continue;
      const auto p = producer_of[static_cast<size_t>(id)];
      const bool available = values_[static_cast<size_t>(id)].is_constant() ||
                             std::find(inputs.begin(), inputs.end(), id) != inputs.end();
      if (p < 0 && !available)
        return invalid_argument(describe(*this, nodes_[i]) + ": input '" + value(id).name +
                                "' is never produced (missing initializer?)");
      if (p < 0) continue;
      readers[static_cast<size_t>(p)].push_back(i);
      ++waiting[i];
    }
  }
  std::vector<size_t> order;
  order.reserve(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (waiting[i] == 0) order.push_back(i);
  for (size_t head = 0; head < order.size(); ++head)
    for (size_t r : readers[order[head]])
      if (--waiting[r] == 0) order.push_back(r);
  if (order.size() < nodes_.size()) {
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (waiting[i] != 0) return invalid_argument(describe(*this, nodes_[i]) + ": the graph has a cycle through this node");
  }
  std::vector<Node> sorted;
  sorted.reserve(nodes_.size());
  for (size_t i : order) sorted.push_back(std::move(nodes_[i]));
  nodes_ = std::move(sorted);
  return Status::ok();
}

std::string describe(const Graph& g, const Node& n) {
  (void)g;
  return "node '" + n.name + "' (" + std::string(to_string(n.op)) + ")";
}

namespace {
// The value's batch axis: 0 when dim 0 alone is the batch, -1 when it has no batch, and
// nullopt when the batch sits elsewhere or twice (a transpose or reshape moved it).
std::optional<int> batch_axis(const Value& v) {
  const auto dynamic = std::count(v.shape.begin(), v.shape.end(), kDynamicDim);
  if (dynamic == 0) return -1;
  if (dynamic == 1 && v.shape[0] == kDynamicDim) return 0;
  return std::nullopt;
}
}  // namespace

bool samples_independent(const Graph& g) {
  for (const Node& n : g.nodes()) {
    bool batched = false;
    size_t rank = 0;
    for (const auto* ids : {&n.inputs, &n.outputs}) {
      for (ValueId id : *ids) {
        if (id == kNoValue) continue;
        const auto axis = batch_axis(g.value(id));
        if (!axis) return false;
        if (*axis == 0 && !batched) rank = g.value(id).shape.size();
        batched = batched || *axis == 0;
      }
    }
    if (!batched || !n.attrs.has("axis")) continue;
    int64_t axis = n.attrs.get_int("axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(rank);
    if (axis == 0) return false;
  }
  return true;
}

}  // namespace inferd::ir
