#include "passes/output_quantization_fusion.h"

#include "ir/activation.h"
#include "passes/graph_edit.h"

namespace inferd::passes {

std::optional<size_t> rounding_conv(const ir::Graph& g, const UseIndex& uses, size_t fq_index) {
  const ir::Node& fq = g.nodes()[fq_index];
  if (fq.op != ir::OpKind::kFakeQuantize || fq.inputs.size() != 1 || fq.outputs.size() != 1) return std::nullopt;
  if (ir::fake_quantizes_to_e4m3(fq.attrs)) return std::nullopt;  // a Conv rounds its output to integer grids only
  const auto p = uses.producer(fq.inputs[0]);
  if (!p || uses.only_reader(g, fq.inputs[0]) != fq_index) return std::nullopt;
  const ir::Node& conv = g.nodes()[*p];
  if (conv.op != ir::OpKind::kConv || conv.outputs.size() != 1 || conv.attrs.has("output_scale")) return std::nullopt;
  return p;
}

std::optional<ir::Node> conv_with_rounding(const ir::Graph& g, const UseIndex& uses, size_t fq_index,
                                           const PassContext& ctx) {
  const auto p = rounding_conv(g, uses, fq_index);
  if (!p) return std::nullopt;
  const ir::Node& fq = g.nodes()[fq_index];
  ir::Node fused = g.nodes()[*p];
  fused.attrs.set("output_scale", fq.attrs.get_float("scale", 1.0f));
  fused.attrs.set("output_zero_point", fq.attrs.get_int("zero_point", 0));
  fused.attrs.set("output_qmin", fq.attrs.get_int("qmin", -128));
  fused.attrs.set("output_qmax", fq.attrs.get_int("qmax", 127));
  fused.outputs[0] = fq.outputs[0];
  if (!ctx.node_supported(g, fused)) return std::nullopt;
  return fused;
}

Result<PassResult> OutputQuantizationFusion::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  std::vector<bool> erase(g.nodes().size(), false);
  UseIndex uses(g);  // a fusion moves the FakeQuantize's output to the Conv (set_producer)
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    std::optional<ir::Node> fused = conv_with_rounding(g, uses, i, ctx);
    if (!fused) continue;
    const size_t p = *rounding_conv(g, uses, i);
    result.changes.push_back("fused " + fused->name + " + " + g.nodes()[i].name + " -> " + fused->name +
                             " (rounds its output)");
    absorb_into_producer(g, uses, p, i, std::move(*fused), erase);
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
