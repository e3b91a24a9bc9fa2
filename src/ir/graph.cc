#include "ir/graph.h"

#include <algorithm>
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

ValueId Graph::add_value(Value v) {
  values_.push_back(std::move(v));
  return static_cast<ValueId>(values_.size() - 1);
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
  for (size_t i = 0; i < values_.size(); ++i)
    if (values_[i].name == name) return static_cast<ValueId>(i);
  return std::nullopt;
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
}

Status Graph::sort_topologically() {
  std::vector<bool> ready(values_.size(), false);
  for (size_t i = 0; i < values_.size(); ++i)
    if (values_[i].is_constant()) ready[i] = true;
  for (auto id : inputs) ready[static_cast<size_t>(id)] = true;

  std::vector<Node> sorted;
  std::vector<bool> placed(nodes_.size(), false);
  sorted.reserve(nodes_.size());
  bool progress = true;
  while (sorted.size() < nodes_.size() && progress) {
    progress = false;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (placed[i]) continue;
      const bool can_run = std::all_of(nodes_[i].inputs.begin(), nodes_[i].inputs.end(),
                                       [&](ValueId id) { return id == kNoValue || ready[static_cast<size_t>(id)]; });
      if (!can_run) continue;
      for (auto id : nodes_[i].outputs) ready[static_cast<size_t>(id)] = true;
      placed[i] = true;
      sorted.push_back(std::move(nodes_[i]));
      progress = true;
    }
  }
  if (sorted.size() < nodes_.size()) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (placed[i]) continue;
      for (auto id : nodes_[i].inputs)
        if (id != kNoValue && !ready[static_cast<size_t>(id)])
          return invalid_argument(describe(*this, nodes_[i]) + ": input '" + value(id).name +
                                  "' is never produced (missing initializer, or the graph has a cycle)");
    }
    return internal_error("topological sort made no progress");
  }
  nodes_ = std::move(sorted);
  return Status::ok();
}

std::string describe(const Graph& g, const Node& n) {
  (void)g;
  return "node '" + n.name + "' (" + std::string(to_string(n.op)) + ")";
}

}  // namespace inferd::ir
