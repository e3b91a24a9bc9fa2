#include "passes/conv_activation_fusion.h"

#include <limits>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

// Copies the activation's canonical parameters onto the producer's attributes. Its
// alpha/beta go to "activation_alpha"/"activation_beta": Gemm's own "alpha"/"beta"
// scale the product, so the plain names would collide (the kernels read these names
// first, for Conv and Gemm alike).
void set_activation(ir::Attributes& dst, const ir::Node& act) {
  using K = ir::OpKind;
  dst.set("activation", std::string(ir::to_string(act.op)));
  switch (act.op) {
    case K::kClip:
      dst.set("min", act.attrs.get_float("min", std::numeric_limits<float>::lowest()));
      dst.set("max", act.attrs.get_float("max", std::numeric_limits<float>::max()));
      break;
    case K::kLeakyRelu: dst.set("activation_alpha", act.attrs.get_float("alpha", 0.01f)); break;
    case K::kHardSigmoid:
      dst.set("activation_alpha", act.attrs.get_float("alpha", 0.2f));
      dst.set("activation_beta", act.attrs.get_float("beta", 0.5f));
      break;
    default: break;
  }
}

// The Conv/ConvTranspose/Gemm producing `act`'s input, if the activation can move into it.
std::optional<size_t> fusable_producer(const ir::Graph& g, const UseIndex& uses, size_t act_index) {
  const ir::Node& act = g.nodes()[act_index];
  // A Clip with min/max still as inputs (not canonicalized) cannot be expressed as attrs.
  if (!ir::is_activation(act.op) || act.inputs.size() != 1 || act.outputs.size() != 1) return std::nullopt;
  const auto p = uses.producer(act.inputs[0]);
  if (!p || uses.only_reader(g, act.inputs[0]) != act_index) return std::nullopt;
  const ir::Node& prod = g.nodes()[*p];
  const bool fusing_op =
      prod.op == ir::OpKind::kConv || prod.op == ir::OpKind::kConvTranspose || prod.op == ir::OpKind::kGemm;
  if (!fusing_op || prod.outputs.size() != 1 ||
      prod.attrs.has("activation"))
    return std::nullopt;
  return p;
}

}  // namespace

Result<PassResult> ConvActivationFusion::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  std::vector<bool> erase(g.nodes().size(), false);
  UseIndex uses(g);  // a fusion moves the activation's output to the producer (set_producer)
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const auto p = fusable_producer(g, uses, i);
    if (!p) continue;
    const ir::Node& act = g.nodes()[i];
    ir::Node fused = g.nodes()[*p];
    set_activation(fused.attrs, act);
    fused.outputs[0] = act.outputs[0];
    if (!ctx.node_supported(g, fused)) continue;
    result.changes.push_back("fused " + fused.name + " + " + act.name + " -> " + fused.name + " (" +
                             std::string(ir::to_string(act.op)) + ")");
    absorb_into_producer(g, uses, *p, i, std::move(fused), erase);
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
