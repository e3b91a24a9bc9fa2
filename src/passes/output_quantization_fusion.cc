#include "passes/output_quantization_fusion.h"

#include <algorithm>
#include <vector>

#include "ir/activation.h"
#include "passes/graph_edit.h"

namespace inferd::passes {

namespace {

// Whether `n` reads `x` once, as its input 0, quantizing it itself onto `fq`'s grid (a
// layer quantized_layer_folding folded from that FakeQuantize, or one like it): it reads
// the rounded values as it would read x, since rounding onto a grid twice rounds once.
bool requantizes_onto(const ir::Node& n, ir::ValueId x, const ir::Node& fq) {
  if (n.inputs.empty() || n.inputs[0] != x || std::count(n.inputs.begin(), n.inputs.end(), x) != 1) return false;
  return n.attrs.has("input_scale") && n.attrs.get_int("input_zero_point", 0) == fq.attrs.get_int("zero_point", 0) &&
         n.attrs.get_float("input_scale", 0) == fq.attrs.get_float("scale", 1.0f) &&
         n.attrs.get_int("input_qmin", -128) == fq.attrs.get_int("qmin", -128) &&
         n.attrs.get_int("input_qmax", 127) == fq.attrs.get_int("qmax", 127);
}

// The readers of x other than the FakeQuantize `fq_index`, when each requantizes onto its
// grid; nullopt when one does not.
std::optional<std::vector<size_t>> requantizing_siblings(const ir::Graph& g, const UseIndex& uses, ir::ValueId x,
                                                         size_t fq_index) {
  std::vector<size_t> siblings;
  for (size_t r : uses.consumers(x)) {
    if (r == fq_index) continue;
    if (!requantizes_onto(g.nodes()[r], x, g.nodes()[fq_index])) return std::nullopt;
    siblings.push_back(r);
  }
  return siblings;
}

// `conv` with the FakeQuantize `fq` as its output rounding, writing fq's output.
ir::Node with_rounding(ir::Node conv, const ir::Node& fq) {
  conv.attrs.set("output_scale", fq.attrs.get_float("scale", 1.0f));
  conv.attrs.set("output_zero_point", fq.attrs.get_int("zero_point", 0));
  conv.attrs.set("output_qmin", fq.attrs.get_int("qmin", -128));
  conv.attrs.set("output_qmax", fq.attrs.get_int("qmax", 127));
  conv.outputs[0] = fq.outputs[0];
  return conv;
}

}  // namespace

std::optional<size_t> rounding_conv(const ir::Graph& g, const UseIndex& uses, size_t fq_index) {
  const ir::Node& fq = g.nodes()[fq_index];
  if (fq.op != ir::OpKind::kFakeQuantize || fq.inputs.size() != 1 || fq.outputs.size() != 1) return std::nullopt;
  if (ir::fake_quantizes_to_e4m3(fq.attrs)) return std::nullopt;  // a Conv rounds its output to integer grids only
  const ir::ValueId x = fq.inputs[0];
  const auto p = uses.producer(x);
  if (!p || g.is_graph_output(x) || !requantizing_siblings(g, uses, x, fq_index)) return std::nullopt;
  const ir::Node& conv = g.nodes()[*p];
  if (conv.op != ir::OpKind::kConv || conv.outputs.size() != 1 || conv.attrs.has("output_scale")) return std::nullopt;
  return p;
}

std::optional<ir::Node> conv_with_rounding(const ir::Graph& g, const UseIndex& uses, size_t fq_index,
                                           const PassContext& ctx) {
  const auto p = rounding_conv(g, uses, fq_index);
  if (!p) return std::nullopt;
  ir::Node fused = with_rounding(g.nodes()[*p], g.nodes()[fq_index]);
  if (!ctx.node_supported(g, fused)) return std::nullopt;
  return fused;
}

Result<PassResult> OutputQuantizationFusion::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  std::vector<bool> erase(g.nodes().size(), false);
  UseIndex uses(g);  // a fusion moves the FakeQuantize's output to the Conv (set_producer)
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const auto p = rounding_conv(g, uses, i);
    if (!p) continue;
    ir::Node fused = with_rounding(g.nodes()[*p], g.nodes()[i]);
    if (!ctx.node_supported(g, fused)) continue;
    const ir::ValueId x = g.nodes()[i].inputs[0], rounded = g.nodes()[i].outputs[0];
    // The INT8 layers reading x read the rounded values instead (the same levels);
    // rounding_conv found that each of them does.
    const std::optional<std::vector<size_t>> siblings = requantizing_siblings(g, uses, x, i);
    for (size_t r : *siblings) g.nodes()[r].inputs[0] = rounded;
    result.changes.push_back("fused " + fused.name + " + " + g.nodes()[i].name + " -> " + fused.name +
                             " (rounds its output)");
    absorb_into_producer(g, uses, *p, i, std::move(fused), erase);
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
