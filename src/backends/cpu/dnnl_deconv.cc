// ConvTranspose -> oneDNN deconvolution_forward (direct, forward_inference), with the
// bias as the primitive's bias argument and the fused activation as eltwise post-op(s):
//   dst = act(deconv(X, W) + B)
//
// Weights: ONNX's [Cin, Cout/group, kH, kW] is oneDNN's deconvolution weights [O, I, kH, kW]
// (grouped: [G, O/G, I/G, kH, kW]) stored input-channel-major, i.e. format iohw (giohw);
// oneDNN reorders them once into the format its primitive asks for. No flip is needed:
// both define dst(oh) = sum over ih, kh with oh = ih * stride - pad_top + kh * dilation.
//
// output_padding: oneDNN takes the output size from dst's dims and checks it against the
// paddings as a convolution from dst to src would, so ONNX's extra rows/columns at the
// bottom/right become a right padding of pad_r - output_padding (negative when the extra
// rows lie beyond every tap: they receive only the bias). Should oneDNN refuse a case, the
// pack fails with kUnimplemented and the backend runs the reference kernel instead.
#include <optional>
#include <string>

#include "backends/cpu/dnnl_common.h"
#include "backends/cpu/dnnl_ops.h"
#include "core/log.h"

namespace inferd::cpu {
namespace {

using dnnl::memory;
using deconv_pd = dnnl::deconvolution_forward::primitive_desc;

struct DeconvGeometry {
  memory::dims strides, dilates, pad_l, pad_r;  // dilates: ONNX - 1; pad_r: minus output_padding
};

class DeconvBuilder final : public PipelineBuilder {
 public:
  DeconvBuilder(DeconvGeometry geo, Activation act, bool has_bias, memory::dims weights_dims)
      : geo_(std::move(geo)), act_(std::move(act)), has_bias_(has_bias), weights_dims_(std::move(weights_dims)) {}

  void pack(const ConstTensorView& x, const ConstTensorView& y, const float* weights, const float* bias) {
    if (bias) bias_ = pack_tensor(bias_desc(), bias, bias_desc());
    const bool grouped = weights_dims_.size() == 5;
    const memory::desc user(weights_dims_, memory::data_type::f32,
                            grouped ? memory::format_tag::giohw : memory::format_tag::iohw);
    const deconv_pd pd = choose(x, y);
    weights_ = pack_tensor(user, weights, pd.weights_desc());
    log_debug("onednn_deconv_packed").kv("impl", pd.impl_info_str());
  }

  Pipeline build(Inputs in, Outputs out) const override {
    const deconv_pd pd = choose(in[0], out[0]);
    Pipeline pl;
    const memory src = pl.input_as(0, in[0], pd.src_desc());
    const Pipeline::OutputTarget dst = pl.output_as(0, out[0], pd.dst_desc());
    std::vector<std::pair<int, memory>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst.compute}};
    args.emplace_back(DNNL_ARG_WEIGHTS, pl.weights_as(weights_, pd.weights_desc()));
    if (bias_.buffer) args.emplace_back(DNNL_ARG_BIAS, pl.bind_fixed(bias_.desc, bias_.buffer->data()));
    pl.add(pd, dnnl::deconvolution_forward(pd), std::move(args));
    pl.finish_output(dst);
    return pl;
  }

 private:
  memory::desc bias_desc() const {
    const bool grouped = weights_dims_.size() == 5;
    const int64_t out_channels = grouped ? weights_dims_[0] * weights_dims_[1] : weights_dims_[0];
    return {{out_channels}, memory::data_type::f32, memory::format_tag::x};
  }

  deconv_pd make_pd(const memory::desc& src, const memory::desc& dst) const {
    const memory::desc weights(weights_dims_, memory::data_type::f32, memory::format_tag::any);
    using dnnl::deconvolution_forward;
    const auto kind = dnnl::prop_kind::forward_inference;
    const auto algo = dnnl::algorithm::deconvolution_direct;
    const auto desc = has_bias_ ? deconvolution_forward::desc(kind, algo, src, weights, bias_desc(), dst, geo_.strides,
                                                              geo_.dilates, geo_.pad_l, geo_.pad_r)
                                : deconvolution_forward::desc(kind, algo, src, weights, dst, geo_.strides,
                                                              geo_.dilates, geo_.pad_l, geo_.pad_r);
    dnnl::post_ops ops;
    append_post_ops(ops, act_);
    return deconv_pd(desc, make_attr(ops), cpu_engine());
  }

  deconv_pd choose(const ConstTensorView& x, const ConstTensorView& y) const {
    return choose_pd(x, y, [this](const memory::desc& s, const memory::desc& d) { return make_pd(s, d); });
  }

  DeconvGeometry geo_;
  Activation act_;
  bool has_bias_;
  memory::dims weights_dims_;
  PackedTensor weights_, bias_;
};

// nullopt when an attribute is not the 2-D form oneDNN takes.
std::optional<DeconvGeometry> geometry_of(const ir::Attributes& attrs) {
  const std::vector<int64_t> strides = attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> pads = attrs.get_ints("pads", {0, 0, 0, 0});
  const std::vector<int64_t> dilations = attrs.get_ints("dilations", {1, 1});
  const std::vector<int64_t> extra = attrs.get_ints("output_padding", {0, 0});
  if (strides.size() != 2 || pads.size() != 4 || dilations.size() != 2 || extra.size() != 2) return std::nullopt;
  return DeconvGeometry{{strides[0], strides[1]},
                        {dilations[0] - 1, dilations[1] - 1},
                        {pads[0], pads[1]},
                        {pads[2] - extra[0], pads[3] - extra[1]}};
}

}  // namespace

PackResult pack_conv_transpose(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  const std::string context = ir::describe(graph, node);
  if (node.inputs.size() < 2 || node.outputs.empty())
    return invalid_argument(context + ": ConvTranspose needs inputs X and W and an output");
  const ir::Value& x = graph.value(node.inputs[0]);
  const ir::Value& w = graph.value(node.inputs[1]);
  const ir::Value& y = graph.value(node.outputs[0]);
  const bool has_bias = has_input(node, 2);
  const std::optional<DeconvGeometry> geo = geometry_of(node.attrs);
  // oneDNN wants constant 2-D weights and bias; anything else runs on the reference kernel.
  if (x.shape.size() != 4 || y.shape.size() != 4 || !w.is_constant() || w.shape.size() != 4 || !geo ||
      (has_bias && !graph.value(node.inputs[2]).is_constant()))
    return std::unique_ptr<PackedOp>();
  const int64_t group = node.attrs.get_int("group", 1);
  if (group < 1 || w.shape[0] % group != 0 || x.shape[1] != w.shape[0] || y.shape[1] != w.shape[1] * group)
    return invalid_argument(context + ": input " + to_string(x.shape) + ", weights " + to_string(w.shape) +
                            " and group " + std::to_string(group) + " do not give output " + to_string(y.shape));
  ASSIGN_OR_RETURN(Activation act, dnnl_fused_activation(node.attrs, /*op_owns_alpha_beta=*/false));

  // oneDNN's logical weights are [(G,) O/G, I/G, kH, kW].
  const int64_t out_per_group = w.shape[1], in_per_group = w.shape[0] / group;
  memory::dims weights_dims{out_per_group, in_per_group, w.shape[2], w.shape[3]};
  if (group > 1) weights_dims.insert(weights_dims.begin(), group);
  auto builder = std::make_shared<DeconvBuilder>(*geo, std::move(act), has_bias, weights_dims);
  const float* bias = has_bias ? graph.value(node.inputs[2]).constant->data<float>() : nullptr;
  RETURN_IF_ERROR(catch_dnnl(context, [&] {
    builder->pack(representative_view(graph, node.inputs[0], 1), representative_view(graph, node.outputs[0], 1),
                  w.constant->data<float>(), bias);
  }));
  return make_pipeline_op("onednn:deconv", context, std::move(builder), opts);
}

}  // namespace inferd::cpu
