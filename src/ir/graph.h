// The IR: a graph of nodes that read and write typed values with static shapes
// (only dim 0, the batch, may be kDynamicDim). Constants (weights) are values
// holding a Tensor. Nodes are kept in topological order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/op.h"

namespace inferd::ir {

using ValueId = int32_t;
inline constexpr ValueId kNoValue = -1;  // an absent optional input

// Physical layout of a 4-D activation; the logical order is always NCHW.
enum class Layout : uint8_t { kNCHW = 0, kNHWC = 1 };

struct Value {
  std::string name;
  DataType dtype = DataType::kFloat32;
  Shape shape;
  std::optional<Tensor> constant;  // set for weights and folded constants
  Layout layout = Layout::kNCHW;
  // Set by concat elimination: this value lives inside `alias_of` starting at
  // channel `alias_channel_offset` (dim 1). The planner gives it no buffer of its own.
  ValueId alias_of = kNoValue;
  int64_t alias_channel_offset = 0;

  bool is_constant() const { return constant.has_value(); }
};

using Attribute = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>>;

class Attributes {
 public:
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  void set(const std::string& name, Attribute value) { map_[name] = std::move(value); }
  void erase(const std::string& name) { map_.erase(name); }
  int64_t get_int(const std::string& name, int64_t fallback) const;
  float get_float(const std::string& name, float fallback) const;
  std::string get_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& name, std::vector<int64_t> fallback = {}) const;
  std::vector<float> get_floats(const std::string& name, std::vector<float> fallback = {}) const;
  const std::map<std::string, Attribute>& all() const { return map_; }
  bool operator==(const Attributes& other) const { return map_ == other.map_; }

 private:
  std::map<std::string, Attribute> map_;
};

struct Node {
  std::string name;
  OpKind op = OpKind::kIdentity;
  std::vector<ValueId> inputs;  // kNoValue for an absent optional input
  std::vector<ValueId> outputs;
  Attributes attrs;
};

class Graph {
 public:
  std::string name;

  ValueId add_value(Value v);
  ValueId add_constant(std::string name, Tensor t);
  Node& add_node(Node n);

  // A value's name is fixed once it is added: find_value() indexes names at add_value().
  Value& value(ValueId id) { return values_.at(static_cast<size_t>(id)); }
  const Value& value(ValueId id) const { return values_.at(static_cast<size_t>(id)); }
  // The first value named `name` (O(1): passes ask it for every name they invent).
  std::optional<ValueId> find_value(const std::string& name) const;
  // `base`, or `base_2`, `base_3`, ... : the first name no value has. Remembers where each
  // base's search ended, so that inventing n names from one base costs O(n), not O(n^2).
  std::string unique_value_name(const std::string& base) const;
  size_t value_count() const { return values_.size(); }

  std::vector<Node>& nodes() { return nodes_; }
  const std::vector<Node>& nodes() const { return nodes_; }

  std::vector<ValueId> inputs;   // activations the user feeds (never constants)
  std::vector<ValueId> outputs;

  // Nodes (indices into nodes()) that read `id`; recomputed on every call.
  std::vector<size_t> consumers(ValueId id) const;
  // The index of the node writing `id`, if any.
  std::optional<size_t> producer(ValueId id) const;
  bool is_graph_output(ValueId id) const;

  // Replaces every read of `from` (node inputs and graph outputs) by `to`.
  void replace_uses(ValueId from, ValueId to);
  // Drops values no node or graph binding mentions, renumbering ids.
  void compact();
  // Re-sorts nodes topologically; fails on a cycle or a read of an undefined value.
  Status sort_topologically();

 private:
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::unordered_map<std::string, ValueId> first_by_name_;        // of values_
  mutable std::unordered_map<std::string, int> next_name_suffix_;  // unique_value_name's hints
};

std::string describe(const Graph& g, const Node& n);  // "node 'conv1' (Conv)"

// Whether every sample of a batch is computed from that sample alone: each value that
// depends on the batch has it as dim 0 and nowhere else, and no node works along axis 0
// (a softmax over the batch, a concat or gather of samples). Only then may a batch run
// padded to a larger size without changing its real rows.
bool samples_independent(const Graph& g);

}  // namespace inferd::ir
