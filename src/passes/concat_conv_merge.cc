#include "passes/concat_conv_merge.h"

#include <algorithm>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

using ir::OpKind;

// A Concat along the channels of 4-D float values that a Conv could write whole.
bool channel_concat(const ir::Graph& g, const ir::Node& n) {
  if (n.op != OpKind::kConcat || n.outputs.size() != 1 || n.inputs.size() < 2) return false;
  if (n.attrs.get_int("in_place", 0) != 0) return false;  // its inputs already live inside it
  const ir::Value& out = g.value(n.outputs[0]);
  if (out.dtype != DataType::kFloat32 || out.shape.size() != 4 || out.is_constant() || out.alias_of != ir::kNoValue)
    return false;
  int64_t axis = n.attrs.get_int("axis", 1);
  if (axis < 0) axis += 4;
  return axis == 1;
}

// Equal up to the window (kernel_shape, pads: checked by enclosing_window) and the names
// of earlier merges: strides, dilations, group and the fused activation with its parameters.
bool same_attrs_but_window(const ir::Attributes& a, const ir::Attributes& b) {
  ir::Attributes x = a, y = b;
  for (const char* key : {"kernel_shape", "pads", "merged"}) {
    x.erase(key);
    y.erase(key);
  }
  return x == y;
}

// The Convs writing the inputs of Concat `concat_index`, in Concat order, when each
// output is read by the Concat alone and all of them could stack along output channels.
std::optional<std::vector<const ir::Node*>> member_convs(const ir::Graph& g, const UseIndex& uses,
                                                         size_t concat_index) {
  std::vector<const ir::Node*> convs;
  for (ir::ValueId in : g.nodes()[concat_index].inputs) {
    const auto p = uses.producer(in);
    if (!p || uses.only_reader(g, in) != concat_index) return std::nullopt;  // also refuses graph outputs
    const ir::Node& conv = g.nodes()[*p];
    if (!stackable_conv(g, conv) || g.value(in).dtype != DataType::kFloat32) return std::nullopt;
    if (!convs.empty() &&
        (conv.inputs[0] != convs[0]->inputs[0] || !same_attrs_but_window(conv.attrs, convs[0]->attrs)))
      return std::nullopt;
    convs.push_back(&conv);
  }
  return convs;
}

std::vector<int64_t> pads_of(const ir::Node& n) {
  return n.attrs.get_ints("pads", {0, 0, 0, 0});
}

// The OIHW weight shape of a stackable Conv.
const Shape& kernel_of(const ir::Graph& g, const ir::Node& n) {
  return constant_of(g, n.inputs[1])->shape();
}

// Whether `small`'s window, centred in `big`'s, reads the same input pixels for every
// output pixel: the kernels differ by an even size and each pad by half of that.
bool centred_in(const ir::Graph& g, const ir::Node& small, const ir::Node& big) {
  const Shape& k = kernel_of(g, small);
  const Shape& K = kernel_of(g, big);
  const std::vector<int64_t> p = pads_of(small), P = pads_of(big);
  if (p.size() != 4 || P.size() != 4 || k[1] != K[1]) return false;
  const int64_t dh = K[2] - k[2], dw = K[3] - k[3];
  if (dh < 0 || dw < 0 || dh % 2 != 0 || dw % 2 != 0) return false;
  // pads: top, left, bottom, right
  if (P[0] - p[0] != dh / 2 || P[2] - p[2] != dh / 2 || P[1] - p[1] != dw / 2 || P[3] - p[3] != dw / 2) return false;
  // Implied by the above when strides are equal (member_convs checked); a belt for
  // hand-built graphs, as a wrong merge would silently change the numbers.
  const Shape& y = g.value(small.outputs[0]).shape;
  const Shape& Y = g.value(big.outputs[0]).shape;
  return y[0] == Y[0] && y[2] == Y[2] && y[3] == Y[3];
}

struct Window {
  size_t widest = 0;    // the member whose window holds every other's
  bool padded = false;  // whether some member's kernel is smaller than it
};

// The largest window and whether the others fit in it, centred.
std::optional<Window> enclosing_window(const ir::Graph& g, const std::vector<const ir::Node*>& convs) {
  Window w;
  for (size_t i = 1; i < convs.size(); ++i) {
    const Shape& k = kernel_of(g, *convs[i]);
    const Shape& widest = kernel_of(g, *convs[w.widest]);
    if (k[2] * k[3] > widest[2] * widest[3]) w.widest = i;
  }
  const ir::Node& big = *convs[w.widest];
  const Shape& K = kernel_of(g, big);
  for (const ir::Node* c : convs) {
    if (!centred_in(g, *c, big)) return std::nullopt;
    const Shape& k = kernel_of(g, *c);
    w.padded = w.padded || k[2] != K[2] || k[3] != K[3];
  }
  // A dilated kernel needs pads larger by dilation times the margin centred_in checks;
  // no known model pads dilated windows, so different windows require dilation 1.
  const std::vector<int64_t> dilations = big.attrs.get_ints("dilations", {1, 1});
  if (w.padded && std::any_of(dilations.begin(), dilations.end(), [](int64_t d) { return d != 1; }))
    return std::nullopt;
  return w;
}

// The one Conv computing `convs` into `outputs` (the Concat's): the widest member's
// attributes, the stacked parameters (added to `g`; unused ones vanish at compaction).
ir::Node merged_conv(ir::Graph& g, const std::vector<const ir::Node*>& convs, size_t widest,
                     const std::vector<ir::ValueId>& outputs) {
  const Shape window = kernel_of(g, *convs[widest]);
  auto [w, b] = stacked_conv_parameters(g, convs, window[2], window[3]);
  ir::Node m = *convs[widest];
  m.name = unique_node_name(g, convs[0]->name + "_cmerged");
  m.attrs.set("merged", merged_names(convs));
  m.inputs = {convs[0]->inputs[0], g.add_constant(unique_value_name(g, m.name + "_weight"), std::move(w))};
  if (b) m.inputs.push_back(g.add_constant(unique_value_name(g, m.name + "_bias"), std::move(*b)));
  m.outputs = outputs;
  return m;
}

std::string change_line(const std::vector<const ir::Node*>& convs, const ir::Node& concat, const ir::Node& merged,
                        const Window& w) {
  std::string line = "merged";
  for (const ir::Node* c : convs) line += (c == convs[0] ? " " : ", ") + c->name;
  line += " + " + concat.name + " -> " + merged.name;
  if (w.padded) line += " (windows padded to the largest)";
  return line;
}

}  // namespace

Result<PassResult> ConcatConvMerge::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  std::vector<bool> erase(g.nodes().size(), false);
  // Built once: the members of a Concat write values only that Concat reads, so a merge
  // changes no producer or reader that a later Concat's check asks about.
  const UseIndex uses(g);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    if (!channel_concat(g, g.nodes()[i])) continue;
    const auto convs = member_convs(g, uses, i);
    if (!convs) continue;
    const auto window = enclosing_window(g, *convs);
    if (!window) continue;
    ir::Node merged = merged_conv(g, *convs, window->widest, g.nodes()[i].outputs);
    // The preference first: backends that never pad windows say no without a look.
    if (window->padded && !ctx.padded_window_merge_preferred(g, merged)) continue;
    if (!ctx.node_supported(g, merged)) continue;
    result.changes.push_back(change_line(*convs, g.nodes()[i], merged, *window));
    // The Conv takes the Concat's place: every member, and so X, comes before it.
    for (const ir::Node* c : *convs) {
      const auto index = static_cast<size_t>(c - g.nodes().data());
      detach(g.nodes()[index]);
      erase[index] = true;
    }
    g.nodes()[i] = std::move(merged);
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
