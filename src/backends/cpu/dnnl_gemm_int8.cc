// Gemm with an INT8 input (attrs input_scale / input_qmin / input_qmax / weight_scales, set by
// the quantized_layer_folding pass) -> oneDNN's u8 x s8 (or s8 x s8) inner product:
//   A quantized by a step of our own into a compact u8/s8 copy (dnnl_quantize.h);
//   W = alpha-free B' ([N, K]) to s8 with the node's per-output weight_scales (exact: the
//   pass folds only weights on that grid; without the attribute, max|w| / 127 per output);
//   the int32 sums scaled back by alpha x input_scale x the output's weight scale (oneDNN
//   2.6's output scales, applied after the bias: the bias beta * C is packed divided by them),
//   then the fused activation as eltwise post-ops. Y stays fp32.
// At batch 1 a fully connected layer is one pass over its weights: int8 weights are a
// quarter of the bytes (AlexNet's fc6, 9216 x 4096: 151 MB in fp32, 38 MB in int8).
#include <algorithm>
#include <string>
#include <vector>

#include "backends/cpu/dnnl_gemm_int8.h"
#include "backends/cpu/dnnl_quantize.h"
#include "core/log.h"

namespace inferd::cpu {
namespace {

using dnnl::memory;
using ip_pd = dnnl::inner_product_forward::primitive_desc;

class Int8GemmBuilder final : public PipelineBuilder {
 public:
  Int8GemmBuilder(int64_t n, int64_t k, Activation act, InputQuantization quant)
      : n_(n), k_(k), act_(std::move(act)), quant_(quant) {}

  void pack(const ConstTensorView& a, const ConstTensorView& y, const Int8GemmWeights& w) {
    const Int8LayerWeights q = int8_layer_weights(w.rows.data(), n_, k_, w.scales, w.alpha * quant_.scale,
                                                  w.bias.empty() ? nullptr : w.bias.data());
    scales_ = q.output_scales;
    const memory::desc plain({n_, k_}, memory::data_type::s8, memory::format_tag::oi);
    plain_weights_ = pack_tensor(plain, q.levels.data(), plain);
    bias_ = pack_tensor(bias_desc(), q.bias.data(), bias_desc());
    const ip_pd pd = choose(a, y);
    weights_ = pack_tensor(plain, q.levels.data(), pd.weights_desc());
    log_debug("onednn_int8_gemm_packed").kv("impl", pd.impl_info_str());
  }

  Pipeline build(Inputs in, Outputs out) const override {
    const ip_pd pd = choose(in[0], out[0]);
    Pipeline pl;
    const memory src = pl.scratch(pd.src_desc());
    add_input_quantization(pl, src, quant_);
    const Pipeline::OutputTarget dst = pl.output_as(0, out[0], pd.dst_desc());
    const memory weights = int8_weights_as(pl, weights_, plain_weights_, pd.weights_desc());
    pl.add(pd, dnnl::inner_product_forward(pd),
           {{DNNL_ARG_SRC, src},
            {DNNL_ARG_DST, dst.compute},
            {DNNL_ARG_WEIGHTS, weights},
            {DNNL_ARG_BIAS, pl.bind_fixed(bias_.desc, bias_.buffer->data())}});
    pl.finish_output(dst);
    return pl;
  }

 private:
  memory::desc bias_desc() const { return {{n_}, memory::data_type::f32, memory::format_tag::x}; }

  ip_pd make_pd(const memory::desc& src, const memory::desc& dst) const {
    const memory::desc weights({n_, k_}, memory::data_type::s8, memory::format_tag::any);
    const dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference, src, weights, bias_desc(), dst);
    dnnl::post_ops ops;
    append_post_ops(ops, act_);
    dnnl::primitive_attr attr = make_attr(ops);
    attr.set_output_scales(1 << 1, scales_);  // per output (dst dim 1)
    return ip_pd(desc, attr, cpu_engine());
  }

  // src: the compact quantized copy; dst: the view, else a compact staging buffer.
  ip_pd choose(const ConstTensorView& a, const ConstTensorView& y) const {
    const memory::desc src = quantized_desc_of(a, quant_.data_type());
    ip_pd pd = make_pd(src, desc_of(y));
    if (is_reference_impl(pd)) {
      ip_pd staged = make_pd(src, compact_desc_of(y));
      if (!is_reference_impl(staged)) pd = staged;
    }
    return pd;
  }

  int64_t n_, k_;
  Activation act_;
  InputQuantization quant_;
  std::vector<float> scales_;  // alpha x input scale x weight scale, per output
  PackedTensor plain_weights_, weights_, bias_;
};

}  // namespace

PackResult pack_int8_gemm(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts,
                          const Int8GemmWeights& w) {
  const std::string context = ir::describe(graph, node);
  ASSIGN_OR_RETURN(const InputQuantization quant, input_quantization(node.attrs, context));
  if (!int8_input_supported(node)) return invalid_argument(context + ": no INT8 Gemm with an input zero point");
  const int64_t n = w.n;
  if (!w.scales.empty() && (static_cast<int64_t>(w.scales.size()) != n ||
                            !std::all_of(w.scales.begin(), w.scales.end(), [](float s) { return s > 0; })))
    return invalid_argument(context + ": weight_scales needs one positive scale per output (" + std::to_string(n) + ")");
  if (!(w.alpha > 0)) return std::unique_ptr<PackedOp>();  // output scales must stay positive: reference kernel
  ASSIGN_OR_RETURN(Activation act, dnnl_fused_activation(node.attrs, /*op_owns_alpha_beta=*/true));
  auto builder = std::make_shared<Int8GemmBuilder>(n, w.k, std::move(act), quant);
  RETURN_IF_ERROR(catch_dnnl(context, [&] {
    builder->pack(representative_view(graph, node.inputs[0], 1), representative_view(graph, node.outputs[0], 1), w);
  }));
  return make_pipeline_op("onednn:inner_product_int8", context, std::move(builder), opts);
}

}  // namespace inferd::cpu
