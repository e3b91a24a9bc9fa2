#include "passes/quantized_layer_folding.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>

#include "core/quantize.h"
#include "ir/activation.h"
#include "passes/graph_edit.h"
#include "passes/output_quantization_fusion.h"

namespace inferd::passes {
namespace {

// The FakeQuantize producing `x`, when its quantization can move into a convolution: an
// int8 or uint8 grid (a zero point inside it; the backend says whether it takes one).
const ir::Node* foldable_quantizer(const ir::Graph& g, const UseIndex& uses, ir::ValueId x) {
  const auto p = uses.producer(x);
  if (!p) return nullptr;
  const ir::Node& fq = g.nodes()[*p];
  if (fq.op != ir::OpKind::kFakeQuantize || fq.inputs.size() != 1 ||
      ir::fake_quantizes_to_e4m3(fq.attrs))  // FP8 layers run as FakeQuantize + float layer (no FP8 kernels yet)
    return nullptr;
  const int64_t qmin = fq.attrs.get_int("qmin", -128), qmax = fq.attrs.get_int("qmax", 127);
  const int64_t zero_point = fq.attrs.get_int("zero_point", 0);
  const bool int8 = qmin == -128 && qmax == 127, uint8 = qmin == 0 && qmax == 255;
  if (!(int8 || uint8) || zero_point < qmin || zero_point > qmax || !(fq.attrs.get_float("scale", 0) > 0))
    return nullptr;
  return &fq;
}

// Whether every w / scales[channel of w] is within 1e-3 of an integer.
bool on_grid(const Tensor& w, int64_t channels, int64_t inner, const std::vector<float>& scales) {
  for (int64_t i = 0; i < w.size(); ++i) {
    const float q = w.data<float>()[i] / scales[static_cast<size_t>((i / inner) % channels)];
    if (std::abs(q - std::nearbyint(q)) > 1e-3f) return false;
  }
  return true;
}

}  // namespace

std::optional<std::vector<float>> int8_weight_scales(const Tensor& w, int axis) {
  if (w.dtype() != DataType::kFloat32 || static_cast<int>(w.shape().size()) <= axis || w.shape()[axis] <= 0)
    return std::nullopt;
  const int64_t channels = w.shape()[static_cast<size_t>(axis)];
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < w.shape().size(); ++d) inner *= w.shape()[d];
  std::vector<float> scales = int8_axis_scales(w.data<float>(), w.size(), channels, inner);
  if (on_grid(w, channels, inner, scales)) return scales;
  // max|w| / 127 over the whole tensor (not the largest channel scale: an all-zero
  // channel's is 1).
  std::fill(scales.begin(), scales.end(), int8_axis_scales(w.data<float>(), w.size(), 1, w.size())[0]);
  if (on_grid(w, channels, inner, scales)) return scales;
  return std::nullopt;
}

namespace {

// The axis of W that holds the layer's outputs, or -1 for a node this pass leaves alone:
// Conv [M, C / group, kh, kw]; Gemm without transA, B [K, N] (axis 1) or with transB [N, K].
int output_axis(const ir::Graph& g, const ir::Node& n) {
  if (n.inputs.size() < 2 || n.attrs.has("input_scale")) return -1;
  if (n.op == ir::OpKind::kConv) return 0;
  if (n.op != ir::OpKind::kGemm || n.attrs.get_int("transA", 0) != 0 || g.value(n.inputs[1]).shape.size() != 2)
    return -1;
  return n.attrs.get_int("transB", 0) != 0 ? 0 : 1;
}

// The INT8 layer must beat the float one by this factor to be kept: a layer within the
// timing's noise runs INT8, as the user asked for.
constexpr double kFloatMustWinBy = 1.05;

struct TimedChoice {
  bool int8 = true;
  std::string figures;  // "int8 0.41 ms, float 0.22 ms + 0.05 ms for its FakeQuantize"
};

// INT8 or float for `layer` by the backend's clock (ctx.time_node): the folded layer, which
// quantizes its input itself, against the float layer plus the pass of its FakeQuantize,
// which costs nothing where output_quantization_fusion will make it the rounding of the
// convolution writing its input (that output's other readers are INT8 layers on the same
// grid, such as the ones folded from this FakeQuantize, and the backend supports the
// rounding convolution: the CUDA backend's cuDNN convolutions do not round). An
// approximation where the FakeQuantize has several float readers: each is charged its
// whole pass.
Result<TimedChoice> timed_choice(const ir::Graph& g, const UseIndex& uses, const ir::Node& layer,
                                 const ir::Node& folded, size_t fq_index, const PassContext& ctx) {
  Result<double> int8_ms = ctx.time_node(g, folded);
  // A backend may accept the folded node and still find no kernel for its shape when it
  // runs it (cuDNN's INT8 engines): that layer stays float, as one that lost the race.
  if (!int8_ms.is_ok() && int8_ms.status().code() == StatusCode::kUnimplemented)
    return TimedChoice{false, "no INT8 kernel for it here: " + int8_ms.status().message()};
  if (!int8_ms.is_ok()) return int8_ms.status();
  ASSIGN_OR_RETURN(const double float_ms, ctx.time_node(g, layer));
  double fq_ms = 0;
  if (!conv_with_rounding(g, uses, fq_index, ctx)) {
    ASSIGN_OR_RETURN(fq_ms, ctx.time_node(g, g.nodes()[fq_index]));
  }
  TimedChoice choice;
  choice.int8 = (float_ms + fq_ms) * kFloatMustWinBy >= *int8_ms;
  char text[128];
  std::snprintf(text, sizeof text, "int8 %.3f ms, float %.3f ms + %.3f ms for its FakeQuantize", *int8_ms, float_ms,
                fq_ms);
  choice.figures = text;
  return choice;
}

}  // namespace

Result<PassResult> QuantizedLayerFolding::run(ir::Graph& g, const PassContext& ctx) const {
  PassResult result;
  const UseIndex uses(g);        // edges into the layers change, producers do not
  std::set<size_t> folded_from;  // the FakeQuantize nodes something was folded from
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const ir::Node& layer = g.nodes()[i];
    const int axis = output_axis(g, layer);
    if (axis < 0) continue;
    const ir::Node* fq = foldable_quantizer(g, uses, layer.inputs[0]);
    const ir::Value& w = g.value(layer.inputs[1]);
    if (fq == nullptr || !w.is_constant()) continue;
    std::optional<std::vector<float>> weight_scales = int8_weight_scales(*w.constant, axis);
    if (!weight_scales) continue;
    const size_t fq_index = *uses.producer(layer.inputs[0]);
    ir::Node folded = layer;
    folded.inputs[0] = fq->inputs[0];
    folded.attrs.set("input_scale", fq->attrs.get_float("scale", 1.0f));
    folded.attrs.set("input_qmin", fq->attrs.get_int("qmin", -128));
    folded.attrs.set("input_qmax", fq->attrs.get_int("qmax", 127));
    if (const int64_t zero_point = fq->attrs.get_int("zero_point", 0); zero_point != 0)
      folded.attrs.set("input_zero_point", zero_point);
    folded.attrs.set("weight_scales", std::move(*weight_scales));
    if (!ctx.node_supported(g, folded)) continue;
    std::string timing;
    if (ctx.time_node) {
      ASSIGN_OR_RETURN(const TimedChoice choice, timed_choice(g, uses, layer, folded, fq_index, ctx));
      if (!choice.int8) {
        result.changes.push_back("kept " + layer.name + " in float after " + fq->name + " (" + choice.figures + ")");
        continue;
      }
      timing = "; " + choice.figures;
    }
    result.changes.push_back("folded " + fq->name + " into " + layer.name + " (INT8 input, " +
                             (fq->attrs.get_int("qmin", -128) == 0 ? "uint8" : "int8") + timing + ")");
    g.nodes()[i] = std::move(folded);
    folded_from.insert(fq_index);
  }
  // A quantizer left without readers goes now, not at the final clean-up: concat_conv_split
  // splits a convolution only where it is the Concat's one reader.
  std::vector<bool> erase(g.nodes().size(), false);
  for (size_t q : folded_from)
    if (g.consumers(g.nodes()[q].outputs[0]).empty() && !g.is_graph_output(g.nodes()[q].outputs[0])) erase[q] = true;
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
