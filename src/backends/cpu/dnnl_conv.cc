// Conv -> oneDNN convolution_forward (direct, forward_inference) with post-ops:
//   dst = act(conv(X, W) + B + R)
// B is the primitive's bias argument; the residual R (input 3) is copied into dst
// first and added by a `sum` post-op (which reads dst before writing it), then the
// fused activation runs as eltwise post-op(s).
//
// Weights are packed once, for batch 1 and the layouts the graph assigns, into the
// format oneDNN asks for (format_tag::any). Should a later shape make oneDNN want
// another weights format, the kernel re-packs into a buffer of its own.
//
// oneDNN 2.6 runs a convolution whose src or dst is a channel slice (row stride > C)
// with its naive "ref:any" implementation; such views are staged through a compact
// buffer instead, so the brgemm/jit kernels still run (decided per shape).
//
// A Conv with an INT8 input (attrs input_scale/input_qmin/input_qmax, set by the
// quantized_layer_folding pass) runs as oneDNN's u8 x s8 (or s8 x s8) convolution: X is
// quantized by a step of our own into a compact u8/s8 copy (dnnl_quantize.h: the formula of
// the reference kernel and FakeQuantize, so the numerics match them exactly), W to s8 per output channel
// with the node's weight_scales (exact: the pass folds only weights on that grid; without
// the attribute, max|w| / 127 per channel), and the int32 sums are
// scaled back by input_scale x the channel's weight scale (oneDNN's output scales, which
// 2.6 applies after the bias: the bias is packed divided by them). dst stays fp32.
//
// A Conv with a rounded output (attrs output_scale/..., set by output_quantization_fusion)
// appends the rounding to its post-ops (dnnl_quantize.h: OutputRounding), on either path.
//
// INT8 tensors between INT8 convolutions (int8_storage): an INT8 Conv whose input value is
// u8/s8 holds the levels already and reads them as they are (no quantization step); one
// whose output value is u8/s8 writes the rounded levels themselves (oneDNN's u8/s8 dst,
// the rounding's last multiplication left out). dst: a quarter of the bytes, and the
// reader's pass over an fp32 input gone.
#include <algorithm>
#include <cmath>
#include <string>

#include "backends/cpu/dnnl_common.h"
#include "backends/cpu/dnnl_ops.h"
#include "backends/cpu/dnnl_quantize.h"
#include "core/levels.h"
#include "core/log.h"

namespace inferd::cpu {
namespace {

using dnnl::memory;
using conv_pd = dnnl::convolution_forward::primitive_desc;

struct ConvGeometry {
  memory::dims strides, dilates, pad_l, pad_r;  // dilates in oneDNN's convention: ONNX - 1
};

// Where the output rounding's post-ops start: after the residual's sum and the activation.
int rounding_index(bool has_residual, const Activation& act) {
  return (has_residual ? 1 : 0) + static_cast<int>(act.size());
}

class ConvBuilder final : public PipelineBuilder {
 public:
  ConvBuilder(ConvGeometry geo, Activation act, std::optional<OutputRounding> rounding, bool has_bias,
              bool has_residual, memory::dims weights_dims)
      : geo_(std::move(geo)),
        act_(std::move(act)),
        rounding_(std::move(rounding)),
        has_bias_(has_bias),
        has_residual_(has_residual),
        weights_dims_(std::move(weights_dims)) {}

  // Packs W (ONNX OIHW, grouped: [G, O/G, I/G, kh, kw]) and B for the primitive chosen for x/y.
  void pack(const ConstTensorView& x, const ConstTensorView& y, const float* weights, const float* bias) {
    if (bias) bias_ = pack_tensor(bias_desc(), bias, bias_desc());
    const memory::desc user(weights_dims_, memory::data_type::f32,
                            weights_dims_.size() == 5 ? memory::format_tag::goihw : memory::format_tag::oihw);
    const conv_pd pd = choose(x, y);
    weights_ = pack_tensor(user, weights, pd.weights_desc());
    log_debug("onednn_conv_packed").kv("impl", pd.impl_info_str());
  }

  Pipeline build(Inputs in, Outputs out) const override {
    const conv_pd pd = choose(in[0], out[0]);
    Pipeline pl;
    const memory src = pl.input_as(0, in[0], pd.src_desc());
    const Pipeline::OutputTarget dst = pl.output_as(0, out[0], pd.dst_desc());
    if (has_residual_) {
      pl.add_reorder(pl.bind_input(3, desc_of(in[3])), dst.compute);
      // In place (R's buffer is dst's): the copy would copy a tensor onto itself.
      if (dst.compute.get() == dst.view.get()) pl.skip_last_step_when_aliased(3, 0);
    }
    std::vector<std::pair<int, memory>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst.compute}};
    args.emplace_back(DNNL_ARG_WEIGHTS, pl.weights_as(weights_, pd.weights_desc()));
    if (bias_.buffer) args.emplace_back(DNNL_ARG_BIAS, pl.bind_fixed(bias_.desc, bias_.buffer->data()));
    if (rounding_) rounding_->bind(pl, rounding_index(has_residual_, act_), args);
    pl.add(pd, dnnl::convolution_forward(pd), std::move(args));
    pl.finish_output(dst);
    return pl;
  }

 private:
  memory::desc bias_desc() const {
    const int64_t out_channels = weights_dims_[0] * (weights_dims_.size() == 5 ? weights_dims_[1] : 1);
    return {{out_channels}, memory::data_type::f32, memory::format_tag::x};
  }

  conv_pd make_pd(const memory::desc& src, const memory::desc& dst) const {
    const memory::desc weights(weights_dims_, memory::data_type::f32, memory::format_tag::any);
    using dnnl::convolution_forward;
    const auto desc =
        has_bias_
            ? convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src,
                                        weights, bias_desc(), dst, geo_.strides, geo_.dilates, geo_.pad_l, geo_.pad_r)
            : convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src,
                                        weights, dst, geo_.strides, geo_.dilates, geo_.pad_l, geo_.pad_r);
    dnnl::post_ops ops;
    if (has_residual_) ops.append_sum(1.0f);
    append_post_ops(ops, act_);
    if (rounding_) rounding_->append_to(ops);
    return conv_pd(desc, make_attr(ops), cpu_engine());
  }

  conv_pd choose(const ConstTensorView& x, const ConstTensorView& y) const {
    return choose_pd(x, y, [this](const memory::desc& s, const memory::desc& d) { return make_pd(s, d); });
  }

  ConvGeometry geo_;
  Activation act_;
  std::optional<OutputRounding> rounding_;
  bool has_bias_;
  bool has_residual_;
  memory::dims weights_dims_;
  PackedTensor weights_, bias_;
};

class Int8ConvBuilder final : public PipelineBuilder {
 public:
  Int8ConvBuilder(ConvGeometry geo, Activation act, std::optional<OutputRounding> rounding, bool has_residual,
                  memory::dims weights_dims, InputQuantization quant)
      : geo_(std::move(geo)),
        act_(std::move(act)),
        rounding_(std::move(rounding)),
        has_residual_(has_residual),
        weights_dims_(std::move(weights_dims)),
        quant_(quant) {}

  // W (fp32 on the per-channel int8 grid `weight_scales`; empty: max|w| / 127) -> s8 and
  // per-channel output scales; B / those scales.
  void pack(const ConstTensorView& x, const ConstTensorView& y, const float* weights, const float* bias,
            const std::vector<float>& weight_scales) {
    const int64_t out_channels = weights_dims_[0] * (weights_dims_.size() == 5 ? weights_dims_[1] : 1);
    const int64_t per_channel = element_count(Shape(weights_dims_.begin(), weights_dims_.end())) / out_channels;
    Int8LayerWeights q = int8_layer_weights(weights, out_channels, per_channel, weight_scales, quant_.scale, bias);
    // The levels are read as stored, q; the layer means (q - zero_point) x scale: subtract
    // zero_point x each channel's weight levels, in the bias's units (int8_input_supported:
    // no padding, so every tap reads a stored level).
    for (size_t m = 0; quant_.zero_point != 0 && m < q.bias.size(); ++m) {
      int64_t sum = 0;
      for (int64_t k = 0; k < per_channel; ++k) sum += q.levels[m * static_cast<size_t>(per_channel) + k];
      q.bias[m] -= quant_.zero_point * static_cast<float>(sum);
    }
    scales_ = q.output_scales;
    const memory::desc user(weights_dims_, memory::data_type::s8,
                            weights_dims_.size() == 5 ? memory::format_tag::goihw : memory::format_tag::oihw);
    plain_weights_ = pack_tensor(user, q.levels.data(), user);
    bias_ = pack_tensor(bias_desc(out_channels), q.bias.data(), bias_desc(out_channels));
    const conv_pd pd = choose(x, y);
    weights_ = pack_tensor(user, q.levels.data(), pd.weights_desc());
    log_debug("onednn_int8_conv_packed").kv("impl", pd.impl_info_str());
  }

  Pipeline build(Inputs in, Outputs out) const override {
    const conv_pd pd = choose(in[0], out[0]);
    Pipeline pl;
    // Levels already (int8_storage: the convolution before wrote them): read as they are.
    const bool levels_in = in[0].dtype != DataType::kFloat32;
    const memory src = levels_in ? pl.input_as(0, in[0], pd.src_desc()) : pl.scratch(pd.src_desc());
    if (!levels_in) add_input_quantization(pl, src, quant_);
    const Pipeline::OutputTarget dst = pl.output_as(0, out[0], pd.dst_desc());
    if (has_residual_) {
      pl.add_reorder(pl.bind_input(3, desc_of(in[3])), dst.compute);
      if (dst.compute.get() == dst.view.get()) pl.skip_last_step_when_aliased(3, 0);
    }
    const memory weights = int8_weights_as(pl, weights_, plain_weights_, pd.weights_desc());
    std::vector<std::pair<int, memory>> args{{DNNL_ARG_SRC, src},
                                             {DNNL_ARG_DST, dst.compute},
                                             {DNNL_ARG_WEIGHTS, weights},
                                             {DNNL_ARG_BIAS, pl.bind_fixed(bias_.desc, bias_.buffer->data())}};
    if (rounding_) rounding_->bind(pl, rounding_index(has_residual_, act_), args);
    pl.add(pd, dnnl::convolution_forward(pd), std::move(args));
    pl.finish_output(dst);
    return pl;
  }

 private:
  static memory::desc bias_desc(int64_t out_channels) {
    return {{out_channels}, memory::data_type::f32, memory::format_tag::x};
  }

  conv_pd make_pd(const memory::desc& src, const memory::desc& dst) const {
    const memory::desc weights(weights_dims_, memory::data_type::s8, memory::format_tag::any);
    const auto desc = dnnl::convolution_forward::desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, weights,
        bias_desc(static_cast<int64_t>(scales_.size())), dst, geo_.strides, geo_.dilates, geo_.pad_l, geo_.pad_r);
    dnnl::post_ops ops;
    if (has_residual_) ops.append_sum(1.0f);
    append_post_ops(ops, act_);
    if (rounding_) rounding_->append_to(ops);
    dnnl::primitive_attr attr = make_attr(ops);
    attr.set_output_scales(1 << 1, scales_);  // per output channel (dst dim 1)
    return conv_pd(desc, attr, cpu_engine());
  }

  // src: the compact quantized copy; dst: the view, else a compact staging buffer.
  conv_pd choose(const ConstTensorView& x, const ConstTensorView& y) const {
    const memory::desc src = quantized_desc_of(x, quant_.data_type());
    conv_pd pd = make_pd(src, desc_of(y));
    if (is_reference_impl(pd)) {
      conv_pd staged = make_pd(src, compact_desc_of(y));
      if (!is_reference_impl(staged)) pd = staged;
    }
    return pd;
  }

  ConvGeometry geo_;
  Activation act_;
  std::optional<OutputRounding> rounding_;
  bool has_residual_;
  memory::dims weights_dims_;
  InputQuantization quant_;
  std::vector<float> scales_;  // input scale x weight scale, per output channel
  PackedTensor plain_weights_, weights_, bias_;
};

ConvGeometry geometry_of(const ir::Attributes& attrs) {
  const std::vector<int64_t> strides = attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> pads = attrs.get_ints("pads", {0, 0, 0, 0});
  const std::vector<int64_t> dilations = attrs.get_ints("dilations", {1, 1});
  return {{strides[0], strides[1]}, {dilations[0] - 1, dilations[1] - 1}, {pads[0], pads[1]}, {pads[2], pads[3]}};
}

bool levels_fit(DataType dtype, int64_t qmin, int64_t qmax) {
  return dtype == DataType::kUint8 ? qmin >= 0 && qmax <= 255 : qmin >= -128 && qmax <= 127;
}

// u8/s8 values (int8_storage) only where their levels mean what the attributes say: an
// input read by an INT8 Conv on that grid (unsigned exactly when u8), an output rounded
// with zero point 0 onto a range the type holds.
Status check_level_storage(const ir::Graph& graph, const ir::Node& node, const std::string& context) {
  const DataType in = graph.value(node.inputs[0]).dtype, out = graph.value(node.outputs[0]).dtype;
  if (is_levels(in) && (!node.attrs.has("input_scale") ||
                        (in == DataType::kUint8) != (node.attrs.get_int("input_qmin", -128) >= 0) ||
                        !levels_fit(in, node.attrs.get_int("input_qmin", -128), node.attrs.get_int("input_qmax", 127))))
    return invalid_argument(context + ": a " + to_string(in) + " input needs the INT8 input grid of that type");
  if (is_levels(out) && (!node.attrs.has("output_scale") || node.attrs.get_int("output_zero_point", 0) != 0 ||
                         !levels_fit(out, node.attrs.get_int("output_qmin", -128), node.attrs.get_int("output_qmax", 127)) ||
                         !node.attrs.has("input_scale") || has_input(node, 3)))
    return invalid_argument(context + ": a " + to_string(out) +
                            " output needs an INT8 convolution without residual rounding onto that type's range");
  if ((in != DataType::kFloat32 && !is_levels(in)) || (out != DataType::kFloat32 && !is_levels(out)))
    return invalid_argument(context + ": Conv takes fp32, u8 or s8 activations");
  return Status::ok();
}

bool valid_2d_attrs(const ir::Attributes& attrs) {
  return attrs.get_ints("strides", {1, 1}).size() == 2 && attrs.get_ints("pads", {0, 0, 0, 0}).size() == 4 &&
         attrs.get_ints("dilations", {1, 1}).size() == 2;
}

}  // namespace

PackResult pack_conv(const ir::Graph& graph, const ir::Node& node, const CpuBackendOptions& opts) {
  const std::string context = ir::describe(graph, node);
  if (node.inputs.size() < 2 || node.outputs.empty())
    return invalid_argument(context + ": Conv needs inputs X and W and an output");
  const ir::Value& x = graph.value(node.inputs[0]);
  const ir::Value& w = graph.value(node.inputs[1]);
  const bool has_bias = has_input(node, 2);
  const bool has_residual = has_input(node, 3);
  // oneDNN wants constant 2-D weights and bias; anything else runs on the reference kernel.
  if (x.shape.size() != 4 || !w.is_constant() || w.shape.size() != 4 || !valid_2d_attrs(node.attrs) ||
      (has_bias && !graph.value(node.inputs[2]).is_constant()))
    return std::unique_ptr<PackedOp>();
  const int64_t group = node.attrs.get_int("group", 1);
  const int64_t out_channels = w.shape[0];
  if (group < 1 || out_channels % group != 0 || x.shape[1] != w.shape[1] * group)
    return invalid_argument(context + ": input has " + std::to_string(x.shape[1]) + " channels but weights " +
                            to_string(w.shape) + " with group " + std::to_string(group) + " expect " +
                            std::to_string(w.shape[1] * group));
  ASSIGN_OR_RETURN(Activation act, dnnl_fused_activation(node.attrs, /*op_owns_alpha_beta=*/false));
  ASSIGN_OR_RETURN(std::optional<OutputRounding> rounding, OutputRounding::of(node.attrs, context));
  RETURN_IF_ERROR(check_level_storage(graph, node, context));
  if (graph.value(node.outputs[0]).dtype != DataType::kFloat32) rounding = rounding->to_levels();

  memory::dims weights_dims(w.shape.begin(), w.shape.end());
  if (group > 1) weights_dims = {group, out_channels / group, w.shape[1], w.shape[2], w.shape[3]};
  const float* bias = has_bias ? graph.value(node.inputs[2]).constant->data<float>() : nullptr;
  if (node.attrs.has("input_scale")) {
    ASSIGN_OR_RETURN(const InputQuantization quant, input_quantization(node.attrs, context));
    if (!int8_input_supported(node))
      return invalid_argument(context + ": an INT8 input with a zero point needs a Conv without padding");
    const std::vector<float> weight_scales = node.attrs.get_floats("weight_scales");
    if (!weight_scales.empty() &&
        (static_cast<int64_t>(weight_scales.size()) != out_channels ||
         !std::all_of(weight_scales.begin(), weight_scales.end(), [](float s) { return s > 0; })))
      return invalid_argument(context + ": weight_scales needs one positive scale per output channel (" +
                              std::to_string(out_channels) + ")");
    auto builder =
        std::make_shared<Int8ConvBuilder>(geometry_of(node.attrs), std::move(act), std::move(rounding), has_residual,
                                          weights_dims, quant);
    RETURN_IF_ERROR(catch_dnnl(context, [&] {
      builder->pack(representative_view(graph, node.inputs[0], 1), representative_view(graph, node.outputs[0], 1),
                    w.constant->data<float>(), bias, weight_scales);
    }));
    return make_pipeline_op("onednn:conv_int8", context, std::move(builder), opts);
  }
  auto builder =
      std::make_shared<ConvBuilder>(geometry_of(node.attrs), std::move(act), std::move(rounding), has_bias,
                                    has_residual, weights_dims);
  RETURN_IF_ERROR(catch_dnnl(context, [&] {
    builder->pack(representative_view(graph, node.inputs[0], 1), representative_view(graph, node.outputs[0], 1),
                  w.constant->data<float>(), bias);
  }));
  return make_pipeline_op("onednn:conv", context, std::move(builder), opts);
}

}  // namespace inferd::cpu
