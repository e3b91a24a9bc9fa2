#include "passes/batchnorm_folding.h"

#include <cmath>

#include "passes/graph_edit.h"

namespace inferd::passes {
namespace {

// Per-channel affine form of a BN: y' = y * scale + shift.
struct ChannelAffine {
  std::vector<float> scale, mean, beta;  // shift = (b - mean) * scale + beta
};

bool is_float_vector(const Tensor* t, int64_t channels) {
  return t && t->dtype() == DataType::kFloat32 && t->size() == channels;
}

// The BN's affine form when all its parameters are constant float vectors of `channels`.
std::optional<ChannelAffine> bn_affine(const ir::Graph& g, const ir::Node& bn, int64_t channels) {
  if (bn.inputs.size() != 5 || bn.outputs.size() != 1) return std::nullopt;
  const Tensor* gamma = constant_of(g, bn.inputs[1]);
  const Tensor* beta = constant_of(g, bn.inputs[2]);
  const Tensor* mean = constant_of(g, bn.inputs[3]);
  const Tensor* var = constant_of(g, bn.inputs[4]);
  for (const Tensor* t : {gamma, beta, mean, var})
    if (!is_float_vector(t, channels)) return std::nullopt;
  const float eps = bn.attrs.get_float("epsilon", 1e-5f);
  ChannelAffine a;
  for (int64_t c = 0; c < channels; ++c) {
    const auto i = static_cast<size_t>(c);
    a.scale.push_back(gamma->floats()[i] / std::sqrt(var->floats()[i] + eps));
    a.mean.push_back(mean->floats()[i]);
    a.beta.push_back(beta->floats()[i]);
  }
  return a;
}

// Output channels of a Conv/Gemm producer the BN may fold into (0: not foldable).
int64_t foldable_channels(const ir::Graph& g, const ir::Node& p) {
  if (p.attrs.has("activation") || input_or_none(p, 3) != ir::kNoValue || p.outputs.size() != 1) return 0;
  const Tensor* w = constant_of(g, input_or_none(p, 1));
  if (!w || w->dtype() != DataType::kFloat32) return 0;
  const ir::ValueId bias_id = input_or_none(p, 2);
  const Tensor* bias = constant_of(g, bias_id);
  if (bias_id != ir::kNoValue && (!bias || bias->dtype() != DataType::kFloat32)) return 0;
  if (p.op == ir::OpKind::kConv && w->shape().size() == 4) {
    if (bias && bias->size() != w->shape()[0]) return 0;
    return w->shape()[0];
  }
  if (p.op == ir::OpKind::kGemm && w->shape().size() == 2) {
    const int64_t n = w->shape()[p.attrs.get_int("transB", 0) != 0 ? 0 : 1];
    // C broadcasts to [M, N]: per-column ([N], [1,N]), a scalar, or a full matrix.
    if (bias && bias->size() != 1 && bias->shape().back() != n) return 0;
    return n;
  }
  return 0;
}

Tensor fold_conv_weights(const Tensor& w, const ChannelAffine& a) {
  Tensor out = w;
  const int64_t per_channel = w.size() / w.shape()[0];
  for (int64_t i = 0; i < w.size(); ++i) out.floats()[static_cast<size_t>(i)] *= a.scale[static_cast<size_t>(i / per_channel)];
  return out;
}

// Gemm B is [K, N] (transB = 0) or [N, K] (transB = 1); channel n is a column or a row.
Tensor fold_gemm_weights(const Tensor& w, const ChannelAffine& a, bool trans_b) {
  Tensor out = w;
  const int64_t cols = w.shape()[1];
  for (int64_t i = 0; i < w.size(); ++i) {
    const int64_t channel = trans_b ? i / cols : i % cols;
    out.floats()[static_cast<size_t>(i)] *= a.scale[static_cast<size_t>(channel)];
  }
  return out;
}

// b' = (bias_scale * b - mean) * s + beta, per channel; `b` may be absent, a scalar,
// per channel, or (Gemm) a full [M, N] matrix whose last dim is the channel.
Tensor fold_bias(const Tensor* b, float bias_scale, const ChannelAffine& a) {
  const auto channels = static_cast<int64_t>(a.scale.size());
  const bool full = b && b->size() > 1;
  Tensor out(DataType::kFloat32, full ? b->shape() : Shape{channels});
  for (int64_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<size_t>(i % channels);
    const float old = !b ? 0.0f : b->floats()[full ? static_cast<size_t>(i) : 0];
    out.floats()[static_cast<size_t>(i)] = (bias_scale * old - a.mean[c]) * a.scale[c] + a.beta[c];
  }
  return out;
}

// Rewrites producer `p` to compute BN(p(x)) directly into `bn_out`.
void fold_into(ir::Graph& g, size_t p_index, const ChannelAffine& a, ir::ValueId bn_out) {
  ir::Node p = g.nodes()[p_index];
  const Tensor& w = *constant_of(g, p.inputs[1]);
  const Tensor* b = constant_of(g, input_or_none(p, 2));
  const bool gemm = p.op == ir::OpKind::kGemm;
  Tensor w2 = gemm ? fold_gemm_weights(w, a, p.attrs.get_int("transB", 0) != 0) : fold_conv_weights(w, a);
  const float bias_scale = gemm ? p.attrs.get_float("beta", 1.0f) : 1.0f;
  Tensor b2 = fold_bias(b, bias_scale, a);
  if (gemm) p.attrs.set("beta", 1.0f);
  const std::string w_name = g.value(p.inputs[1]).name;
  if (p.inputs.size() < 3) p.inputs.resize(3, ir::kNoValue);
  p.inputs[1] = g.add_constant(unique_value_name(g, w_name + "_bnfolded"), std::move(w2));
  p.inputs[2] = g.add_constant(unique_value_name(g, p.name + "_bias_bnfolded"), std::move(b2));
  p.outputs[0] = bn_out;
  g.nodes()[p_index] = std::move(p);
}

}  // namespace

Result<PassResult> BatchNormFolding::run(ir::Graph& g, const PassContext&) const {
  PassResult result;
  std::vector<bool> erase(g.nodes().size(), false);
  UseIndex uses(g);  // a fold moves the BatchNorm's output to the producer (set_producer)
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const ir::Node& bn = g.nodes()[i];
    if (bn.op != ir::OpKind::kBatchNormalization || bn.inputs.empty() || bn.outputs.size() != 1) continue;
    const auto p_index = uses.producer(bn.inputs[0]);
    if (!p_index || uses.only_reader(g, bn.inputs[0]) != i) continue;
    const int64_t channels = foldable_channels(g, g.nodes()[*p_index]);
    if (channels == 0) continue;
    const auto affine = bn_affine(g, bn, channels);
    if (!affine) continue;
    const std::string bn_name = bn.name;
    uses.set_producer(bn.outputs[0], *p_index);
    fold_into(g, *p_index, *affine, bn.outputs[0]);
    detach(g.nodes()[i]);
    erase[i] = true;
    const ir::Node& p = g.nodes()[*p_index];
    result.changes.push_back("folded " + bn_name + " into " + p.name + " (" + std::string(ir::to_string(p.op)) + ")");
  }
  erase_nodes(g, erase);
  RETURN_IF_ERROR(restore_invariants(g, name()));
  return result;
}

}  // namespace inferd::passes
