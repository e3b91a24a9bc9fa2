// Gemm (Y = act(alpha * A * B' + beta * C)) with constant B and a per-column C.
// Weights are packed once with alpha folded in, in the (batch-independent) format
// oneDNN's inner product asks for; bias = beta * C.
//   batch 1 (M = 1): the GEMV of dnnl_gemv.h, reading those packed weights;
//   M > 1: oneDNN's inner product with the activation as an eltwise post-op.
// On AVX-512 oneDNN picks blocked weights (BA16b64a, the same for every M): at M = 8
// they run fc6 (9216 -> 4096) in 1.1-1.2 ms against 2.6-2.8 ms for plain rows (16
// cores, bench/ops.cc). The GEMV reads the blocked weights directly, so both paths
// share one copy.
// Anything else (transA, C of shape [M, N] or not constant, a non-constant B) runs
// on the reference kernel. A Gemm with an INT8 input runs as dnnl_gemm_int8.cc's.
#include <string>
#include <vector>

#include "backends/cpu/dnnl_common.h"
#include "backends/cpu/dnnl_gemm_int8.h"
#include "backends/cpu/dnnl_gemv.h"
#include "backends/cpu/dnnl_ops.h"
#include "core/log.h"

namespace inferd::cpu {
namespace {

using dnnl::memory;
using ip_pd = dnnl::inner_product_forward::primitive_desc;

class GemmBuilder final : public PipelineBuilder {
 public:
  GemmBuilder(int64_t n, int64_t k, bool has_bias, Activation act)
      : n_(n), k_(k), has_bias_(has_bias), act_(std::move(act)) {}

  // `rows` is W as row-major [N, K] with alpha applied; `bias` has N values or is null.
  void pack(const ConstTensorView& a, const ConstTensorView& y, const std::vector<float>& rows, const float* bias) {
    const memory::desc plain({n_, k_}, memory::data_type::f32, memory::format_tag::oi);
    const ip_pd pd = choose(a, y);
    // A format the GEMV cannot read is not worth a second copy: pack plain rows then,
    // and let oneDNN re-pack per kernel for larger batches.
    memory::desc want = pd.weights_desc();
    if (!gemv_layout_of(want)) want = plain;
    weights_ = pack_tensor(plain, rows.data(), want);
    layout_ = *gemv_layout_of(want);
    if (bias) bias_ = pack_tensor(bias_desc(), bias, bias_desc());
    log_debug("onednn_gemm_packed")
        .kv("impl", pd.impl_info_str())
        .kv("blocked", layout_.kind == GemvLayout::Kind::kBlocked);
  }

  Pipeline build(Inputs in, Outputs out) const override {
    const ConstTensorView& a = in[0];
    Pipeline pl;
    if (a.shape[0] == 1 && a.strides[1] == 1) {
      // `this` outlives the step: kernels hold their builder (shared_ptr) and their pipelines.
      pl.add_custom("gemv", [this](Inputs i, Outputs o) {
        gemv(layout_, weights_.buffer->data(), i[0].f32(), bias_.buffer ? bias_.buffer->data() : nullptr, act_,
             o[0].f32(), o[0].strides[1]);
      });
      return pl;
    }
    const ip_pd pd = choose(a, out[0]);
    const memory src = pl.input_as(0, a, pd.src_desc());
    const Pipeline::OutputTarget dst = pl.output_as(0, out[0], pd.dst_desc());
    std::vector<std::pair<int, memory>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst.compute}};
    args.emplace_back(DNNL_ARG_WEIGHTS, pl.weights_as(weights_, pd.weights_desc()));
    if (has_bias_) args.emplace_back(DNNL_ARG_BIAS, pl.bind_fixed(bias_.desc, bias_.buffer->data()));
    pl.add(pd, dnnl::inner_product_forward(pd), std::move(args));
    pl.finish_output(dst);
    return pl;
  }

 private:
  memory::desc bias_desc() const { return {{n_}, memory::data_type::f32, memory::format_tag::x}; }

  ip_pd make_pd(const memory::desc& src, const memory::desc& dst) const {
    const memory::desc weights({n_, k_}, memory::data_type::f32, memory::format_tag::any);
    using dnnl::inner_product_forward;
    const auto desc =
        has_bias_ ? inner_product_forward::desc(dnnl::prop_kind::forward_inference, src, weights, bias_desc(), dst)
                  : inner_product_forward::desc(dnnl::prop_kind::forward_inference, src, weights, dst);
    dnnl::post_ops ops;
    append_post_ops(ops, act_);
    return ip_pd(desc, make_attr(ops), cpu_engine());
  }

  ip_pd choose(const ConstTensorView& a, const ConstTensorView& y) const {
    return choose_pd(a, y, [this](const memory::desc& s, const memory::desc& d) { return make_pd(s, d); });
  }

  int64_t n_, k_;
  bool has_bias_;
  Activation act_;
  PackedTensor weights_, bias_;
  GemvLayout layout_;
};

// W[n][k] = alpha * B'[n][k] where B' = B^T unless transB (then B is already [N, K]).
std::vector<float> weight_rows(const Tensor& b, bool trans_b, float alpha) {
  const int64_t n = trans_b ? b.shape()[0] : b.shape()[1];
  const int64_t k = trans_b ? b.shape()[1] : b.shape()[0];
  std::vector<float> rows(static_cast<size_t>(n * k));
  const float* src = b.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) rows[i * k + j] = alpha * (trans_b ? src[i * k + j] : src[j * n + i]);
  return rows;
}

// C broadcasts per column when it holds N values ([N] or [1, N]) or one value.
bool is_column_bias(const ir::Value& c, int64_t n) {
  const int64_t count = element_count(c.shape);
  if (count == 1) return true;
  return count == n && (c.shape.size() == 1 || (c.shape.size() == 2 && c.shape[0] == 1));
}

std::vector<float> bias_values(const Tensor& c, float beta, int64_t n) {
  std::vector<float> bias(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) bias[j] = beta * c.data<float>()[c.size() == 1 ? 0 : j];
  return bias;
}

}  // namespace

PackResult pack_gemm(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  const std::string context = ir::describe(graph, node);
  if (node.inputs.size() < 2 || node.outputs.empty())
    return invalid_argument(context + ": Gemm needs inputs A and B and an output");
  const ir::Value& a = graph.value(node.inputs[0]);
  const ir::Value& b = graph.value(node.inputs[1]);
  const bool trans_b = node.attrs.get_int("transB", 0) != 0;
  if (a.shape.size() != 2 || !b.is_constant() || b.shape.size() != 2 || node.attrs.get_int("transA", 0) != 0)
    return std::unique_ptr<PackedOp>();
  const int64_t k = trans_b ? b.shape[1] : b.shape[0];
  const int64_t n = trans_b ? b.shape[0] : b.shape[1];
  if (a.shape[1] != k)
    return invalid_argument(context + ": A is " + to_string(a.shape) + " but B " + to_string(b.shape) +
                            (trans_b ? " (transposed)" : "") + " expects " + std::to_string(k) + " columns");
  const bool has_c = has_input(node, 2);
  if (has_c && (!graph.value(node.inputs[2]).is_constant() || !is_column_bias(graph.value(node.inputs[2]), n)))
    return std::unique_ptr<PackedOp>();
  if (node.attrs.has("input_scale")) {  // an INT8 input (quantized_layer_folding)
    Int8GemmWeights w;
    w.rows = weight_rows(*b.constant, trans_b, 1.0f);
    w.n = n;
    w.k = k;
    w.alpha = node.attrs.get_float("alpha", 1.0f);
    if (has_c) w.bias = bias_values(*graph.value(node.inputs[2]).constant, node.attrs.get_float("beta", 1.0f), n);
    w.scales = node.attrs.get_floats("weight_scales");
    return pack_int8_gemm(graph, node, opts, w);
  }
  ASSIGN_OR_RETURN(Activation act, dnnl_fused_activation(node.attrs, /*op_owns_alpha_beta=*/true));

  const std::vector<float> rows = weight_rows(*b.constant, trans_b, node.attrs.get_float("alpha", 1.0f));
  std::vector<float> bias;
  if (has_c) bias = bias_values(*graph.value(node.inputs[2]).constant, node.attrs.get_float("beta", 1.0f), n);
  auto builder = std::make_shared<GemmBuilder>(n, k, has_c, std::move(act));
  RETURN_IF_ERROR(catch_dnnl(context, [&] {
    builder->pack(representative_view(graph, node.inputs[0], 1), representative_view(graph, node.outputs[0], 1), rows,
                  has_c ? bias.data() : nullptr);
  }));
  return make_pipeline_op("onednn:inner_product+gemv", context, std::move(builder), opts);
}

}  // namespace inferd::cpu
