// Small graph queries and edits shared by the passes (the vocabulary of patterns:
// "the only reader of a value", "a constant tensor", "a fresh name").
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace inferd::passes {

// The index of the one node reading `id`, when exactly one node reads it (once) and
// `id` is not a graph output: the value is private to that edge and may be fused away.
std::optional<size_t> only_reader(const ir::Graph& g, ir::ValueId id);

// Which node writes and which nodes read each value, computed once in O(nodes + edges).
// Graph::producer()/consumers() scan every node per call, so a pass asking them for
// every node was quadratic (a 40,000-node chain built in 11 s). Valid while the pass
// changes no edges except those it reports through set_producer(); values added after
// construction have no producer and no readers here.
class UseIndex {
 public:
  explicit UseIndex(const ir::Graph& g);
  std::optional<size_t> producer(ir::ValueId id) const;
  const std::vector<size_t>& consumers(ir::ValueId id) const;
  // only_reader() below, from the index.
  std::optional<size_t> only_reader(const ir::Graph& g, ir::ValueId id) const;
  void set_producer(ir::ValueId id, size_t node);

 private:
  std::vector<int64_t> producer_;  // -1: none
  std::vector<std::vector<size_t>> readers_;
};

// The constant tensor held by `id`, or nullptr (also for kNoValue).
const Tensor* constant_of(const ir::Graph& g, ir::ValueId id);

// The input at `index`, or kNoValue when the node has fewer inputs.
ir::ValueId input_or_none(const ir::Node& n, size_t index);

// `base` if no value has that name yet, else base_2, base_3, ...
std::string unique_value_name(const ir::Graph& g, const std::string& base);
std::string unique_node_name(const ir::Graph& g, const std::string& base);

// Clears a node's inputs and outputs so that, until it is erased, queries such as
// consumers() and producer() no longer see it.
void detach(ir::Node& n);

// A node fused into the one producing its input (an activation, a residual Add, a
// FakeQuantize into a Conv): `fused`, the producer as rewritten to write the absorbed
// node's output, replaces g.nodes()[producer]; the absorbed node is detached and flagged in
// `erase`; `uses` records the output's new producer.
void absorb_into_producer(ir::Graph& g, UseIndex& uses, size_t producer, size_t absorbed, ir::Node fused,
                          std::vector<bool>& erase);

// Erases the nodes whose flag is set (indices into g.nodes()).
void erase_nodes(ir::Graph& g, const std::vector<bool>& erase);

// Restores the pass contract after a rewrite: topological order, then compaction.
// `pass` names the pass in the error (a failure here is a bug in that pass).
Status restore_invariants(ir::Graph& g, std::string_view pass);

// --- merging sibling convolutions (horizontal_conv_fusion, concat_conv_merge) -------------

// A Conv whose weights can be stacked with its siblings' along output channels: one 4-D
// output, group 1, no residual input, constant float32 OIHW weights and an optional
// constant float32 bias with one value per output channel.
bool stackable_conv(const ir::Graph& g, const ir::Node& n);

// The weights [sum of O, C, kh, kw] and bias of `convs` (stackable_conv, equal C, windows
// no larger than kh x kw) stacked along output channels in order. A smaller kernel sits
// in the centre of the window, zeros around it: (kh - its kh) / 2 rows above and
// (kw - its kw) / 2 columns to the left. The bias is absent when no member has one;
// otherwise zeros stand in for a member without.
std::pair<Tensor, std::optional<Tensor>> stacked_conv_parameters(const ir::Graph& g,
                                                                 const std::vector<const ir::Node*>& convs, int64_t kh,
                                                                 int64_t kw);

// "a||b||c": the names of the convolutions one merged node computes, for its "merged"
// attribute (profiles and reports show it beside the node's name).
std::string merged_names(const std::vector<const ir::Node*>& convs);

// "[1,64,56,56]" plus the value's name, for change lines and errors.
std::string value_label(const ir::Graph& g, ir::ValueId id);

}  // namespace inferd::passes
