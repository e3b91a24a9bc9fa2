#include "passes/conv_add_fusion.h"

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

// The index of the Conv producing Add operand `conv_out` if it can absorb `other`.
std::optional<size_t> fusable_conv(const ir::Graph& g, const UseIndex& uses, size_t add_index, ir::ValueId conv_out,
                                   ir::ValueId other) {
  if (conv_out == other || conv_out == ir::kNoValue || other == ir::kNoValue) return std::nullopt;
  const auto p = uses.producer(conv_out);
  if (!p || uses.only_reader(g, conv_out) != add_index) return std::nullopt;
  const ir::Node& conv = g.nodes()[*p];
  if (conv.op != ir::OpKind::kConv || conv.outputs.size() != 1 || conv.attrs.has("activation") ||
      input_or_none(conv, 3) != ir::kNoValue)
    return std::nullopt;
  const ir::Value& a = g.value(conv_out);
  const ir::Value& b = g.value(other);
  if (a.shape.empty() || a.shape != b.shape || a.dtype != b.dtype) return std::nullopt;
  return p;
}

// Of the two operands, the Conv to fuse into. When both qualify, the one computed later
// absorbs the other: its residual is then already computed when it runs.
std::optional<std::pair<size_t, ir::ValueId>> choose(const ir::Graph& g, const UseIndex& uses, size_t add_index) {
  const ir::Node& add = g.nodes()[add_index];
  if (add.inputs.size() != 2 || add.outputs.size() != 1) return std::nullopt;
  const auto first = fusable_conv(g, uses, add_index, add.inputs[0], add.inputs[1]);
  const auto second = fusable_conv(g, uses, add_index, add.inputs[1], add.inputs[0]);
  if (first && (!second || *first > *second)) return std::make_pair(*first, add.inputs[1]);
  if (second) return std::make_pair(*second, add.inputs[0]);
  return std::nullopt;
}

}  // namespace

Result<PassResult> ConvAddFusion::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  std::vector<bool> erase(g.nodes().size(), false);
  // A fusion moves the Add's output to the Conv (set_producer); the residual gains the
  // Conv as a reader in place of the Add, which counts the same for only_reader().
  UseIndex uses(g);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const ir::Node& add = g.nodes()[i];
    // A two-input Sum (Caffe's Eltwise SUM) is the same residual addition.
    if (add.op != ir::OpKind::kAdd && !(add.op == ir::OpKind::kSum && add.inputs.size() == 2)) continue;
    const auto choice = choose(g, uses, i);
    if (!choice) continue;
    const auto [conv_index, residual] = *choice;
    ir::Node fused = g.nodes()[conv_index];
    fused.inputs.resize(4, ir::kNoValue);
    fused.inputs[3] = residual;
    fused.outputs[0] = add.outputs[0];
    if (!ctx.node_supported(g, fused)) continue;
    result.changes.push_back("fused " + fused.name + " + " + add.name + " -> " + fused.name +
                             " (residual " + g.value(residual).name + ")");
    absorb_into_producer(g, uses, conv_index, i, std::move(fused), erase);
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
