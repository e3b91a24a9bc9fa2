// One converter per Caffe layer type: LayerParameter -> IR nodes.
#include <algorithm>

#include "import/caffe/caffe_graph_builder.h"
#include "ir/shape_inference.h"

namespace inferd::caffe {
namespace {

// Caffe's two spellings of a 2-D window parameter: `name: v` (repeated, 1 or 2 values) or
// `name_h`/`name_w`.
std::vector<int64_t> pair_of(const google::protobuf::RepeatedField<uint32_t>& both, bool has_h, uint32_t h,
                             uint32_t w, int64_t fallback) {
  if (has_h) return {h, w};
  if (both.empty()) return {fallback, fallback};
  if (both.size() == 1) return {both[0], both[0]};
  return {both[0], both[1]};
}

}  // namespace

Status CaffeGraphBuilder::convert(const LayerParameter& l) {
  const std::string& type = l.type();
  if (type == "Input") return input(l);
  if (type == "Convolution" || type == "Deconvolution") return convolution(l);
  if (type == "Pooling") return pooling(l);
  if (type == "InnerProduct") return inner_product(l);
  if (type == "Eltwise") return eltwise(l);
  if (type == "ReLU" || type == "Sigmoid" || type == "TanH") return activation(l);
  if (type == "LRN") return lrn(l);
  if (type == "Concat") return concat(l);
  if (type == "Flatten" || type == "Softmax") return flatten_or_softmax(l);
  if (type == "BatchNorm") return batch_norm(l);
  if (type == "Scale") return scale(l);
  if (type == "Reshape") return reshape(l);
  if (type == "Dropout" || type == "Split") return pass_through(l);
  return unimplemented("unsupported layer type");
}

Status CaffeGraphBuilder::input(const LayerParameter& l) {
  for (int i = 0; i < l.top_size(); ++i) {
    const auto& shapes = l.input_param().shape();
    if (shapes.empty()) return invalid_argument("has no input_param shape");
    const auto& dim = shapes[std::min(i, shapes.size() - 1)].dim();  // one shape may serve every top
    Shape dims(dim.begin(), dim.end());
    RETURN_IF_ERROR(add_input(l.top(i), dims));
  }
  return Status::ok();
}

Status CaffeGraphBuilder::convolution(const LayerParameter& l) {
  const auto& p = l.convolution_param();
  if (p.axis() != 1) return unimplemented("axis " + std::to_string(p.axis()) + " (only 1)");
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  ASSIGN_OR_RETURN(ir::ValueId w, weight(l, 0, "weights"));
  const Shape ws = graph_.value(w).shape;  // a copy: adding the bias may move the values
  const auto kernel = pair_of(p.kernel_size(), p.has_kernel_h(), p.kernel_h(), p.kernel_w(), 0);
  // Deconvolution: Caffe stores [Cin, num_output/group, kH, kW], ONNX ConvTranspose's layout.
  const bool deconv = l.type() == "Deconvolution";
  const int64_t group = p.group(), num_output = p.num_output();
  const int64_t outputs = ws.size() == 4 ? (deconv ? ws[1] * group : ws[0]) : -1;
  if (group < 1) return invalid_argument("group must be at least 1");
  if (ws.size() != 4 || outputs != num_output || ws[2] != kernel[0] || ws[3] != kernel[1])
    return invalid_argument("weights of shape " + to_string(ws) + " do not match num_output " +
                            std::to_string(num_output) + (deconv ? " (/ group " + std::to_string(group) + ")" : "") +
                            " and kernel " + std::to_string(kernel[0]) + "x" + std::to_string(kernel[1]));
  std::vector<ir::ValueId> inputs{in[0], w};
  if (p.bias_term()) {
    ASSIGN_OR_RETURN(ir::ValueId b, bias(l, num_output));
    inputs.push_back(b);
  }
  const auto pads = pair_of(p.pad(), p.has_pad_h(), p.pad_h(), p.pad_w(), 0);
  const auto strides = pair_of(p.stride(), p.has_stride_h(), p.stride_h(), p.stride_w(), 1);
  std::vector<int64_t> dilations{1, 1};
  if (p.dilation_size() >= 1) dilations = {p.dilation(0), p.dilation(p.dilation_size() > 1 ? 1 : 0)};
  ir::Attributes a;
  a.set("strides", strides);
  a.set("pads", std::vector<int64_t>{pads[0], pads[1], pads[0], pads[1]});
  a.set("dilations", dilations);
  a.set("group", group);
  if (!deconv) return emit(l, ir::OpKind::kConv, std::move(inputs), std::move(a));
  // Caffe's deconvolution output is stride * (H - 1) + kernel extent - 2 * pad: ONNX's
  // with symmetric pads and no output_padding.
  a.set("output_padding", std::vector<int64_t>{0, 0});
  return emit(l, ir::OpKind::kConvTranspose, std::move(inputs), std::move(a));
}

Status CaffeGraphBuilder::pooling(const LayerParameter& l) {
  const auto& p = l.pooling_param();
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  using Pool = inferd_caffe::PoolingParameter;
  if (p.pool() == Pool::STOCHASTIC) return unimplemented("STOCHASTIC pooling");
  if (p.global_pooling()) {
    if (p.pool() == Pool::AVE) return emit(l, ir::OpKind::kGlobalAveragePool, {in[0]}, {});
    return global_max_pool(l, in[0]);
  }
  if (!p.has_kernel_size() && !p.has_kernel_h()) return invalid_argument("has no kernel_size");
  const int64_t kh = p.has_kernel_h() ? p.kernel_h() : p.kernel_size(), kw = p.has_kernel_h() ? p.kernel_w() : p.kernel_size();
  const int64_t ph = p.has_pad_h() ? p.pad_h() : p.pad(), pw = p.has_pad_h() ? p.pad_w() : p.pad();
  const int64_t sh = p.has_stride_h() ? p.stride_h() : p.stride(), sw = p.has_stride_h() ? p.stride_w() : p.stride();
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{kh, kw});
  a.set("strides", std::vector<int64_t>{sh, sw});
  a.set("pads", std::vector<int64_t>{ph, pw, ph, pw});
  a.set("ceil_mode", int64_t{1});  // Caffe rounds the output size up
  // Caffe divides by the window clipped to the padded input: padding counts.
  a.set("count_include_pad", int64_t{1});
  return emit(l, p.pool() == Pool::MAX ? ir::OpKind::kMaxPool : ir::OpKind::kAveragePool, {in[0]}, std::move(a));
}

// The IR has no global max pool: a MaxPool whose window is the whole map gives one value
// per channel, as the SDK's addPooling does. The window is the input's H x W, which shape
// inference (otherwise run once in finish()) must know now: the nodes so far are in layer
// order, so inferring them is valid, and it costs one walk per global MAX layer (rare).
Status CaffeGraphBuilder::global_max_pool(const LayerParameter& l, ir::ValueId in) {
  RETURN_IF_ERROR(ir::infer_shapes(graph_));
  const Shape s = graph_.value(in).shape;
  if (s.size() != 4 || s[2] < 1 || s[3] < 1)
    return invalid_argument("global pooling of an input of shape " + to_string(s) + " (not NCHW)");
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{s[2], s[3]});
  a.set("strides", std::vector<int64_t>{1, 1});
  a.set("pads", std::vector<int64_t>{0, 0, 0, 0});
  a.set("ceil_mode", int64_t{0});
  a.set("count_include_pad", int64_t{0});
  return emit(l, ir::OpKind::kMaxPool, {in}, std::move(a));
}

Status CaffeGraphBuilder::inner_product(const LayerParameter& l) {
  const auto& p = l.inner_product_param();
  if (p.axis() != 1) return unimplemented("axis " + std::to_string(p.axis()) + " (only 1)");
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  ASSIGN_OR_RETURN(ir::ValueId w, weight(l, 0, "weights"));
  Shape ws = graph_.value(w).shape;
  while (ws.size() > 2 && ws[0] == 1) ws.erase(ws.begin());  // legacy [1,1,N,K] blobs
  if (ws.size() != 2) return invalid_argument("weights of shape " + to_string(graph_.value(w).shape) + " are not 2-D");
  reshape_constant(w, ws);
  const int64_t outputs = p.transpose() ? ws[1] : ws[0];
  if (outputs != static_cast<int64_t>(p.num_output()))
    return invalid_argument("weights of shape " + to_string(ws) + " do not have num_output " +
                            std::to_string(p.num_output()) + " rows");
  if (l.top_size() != 1) return invalid_argument("must have exactly one output");
  std::vector<ir::ValueId> inputs{flattened(l, in[0]), w};
  if (p.bias_term()) {
    ASSIGN_OR_RETURN(ir::ValueId b, bias(l, outputs));
    inputs.push_back(b);
  }
  ir::Attributes a;
  a.set("alpha", 1.0f);
  a.set("beta", 1.0f);
  a.set("transA", int64_t{0});
  a.set("transB", int64_t{p.transpose() ? 0 : 1});
  return emit(l, ir::OpKind::kGemm, std::move(inputs), std::move(a));
}

Status CaffeGraphBuilder::eltwise(const LayerParameter& l) {
  const auto& p = l.eltwise_param();
  ASSIGN_OR_RETURN(auto in, bottoms(l, 2));
  using Op = inferd_caffe::EltwiseParameter;
  if (p.coeff_size() > 0 && p.operation() != Op::SUM)
    return invalid_argument("coefficients are for SUM only (Caffe refuses them too)");
  if (p.coeff_size() > 0 && p.coeff_size() != static_cast<int>(in.size()))
    return invalid_argument("has " + std::to_string(p.coeff_size()) + " coefficients for " +
                            std::to_string(in.size()) + " inputs");
  if (p.operation() == Op::MAX) return emit(l, ir::OpKind::kMax, in, {});
  if (p.operation() == Op::PROD) {
    if (in.size() != 2) return unimplemented("Eltwise PROD of more than 2 inputs");
    return emit(l, ir::OpKind::kMul, in, {});
  }
  // SUM with coefficients: each weighted input is a Mul by a scalar (broadcast) first.
  for (int i = 0; i < p.coeff_size(); ++i) {
    if (p.coeff(i) == 1.0f) continue;
    const std::string name = l.name() + "_coeff" + std::to_string(i);
    in[static_cast<size_t>(i)] =
        add_op(name, name, ir::OpKind::kMul, {in[static_cast<size_t>(i)], constant(name, {1}, {p.coeff(i)})}, {});
  }
  return emit(l, in.size() == 2 ? ir::OpKind::kAdd : ir::OpKind::kSum, in, {});
}

Status CaffeGraphBuilder::activation(const LayerParameter& l) {
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  if (l.type() == "Sigmoid") return emit(l, ir::OpKind::kSigmoid, in, {});
  if (l.type() == "TanH") return emit(l, ir::OpKind::kTanh, in, {});
  const float slope = l.relu_param().negative_slope();
  if (slope == 0.0f) return emit(l, ir::OpKind::kRelu, in, {});
  ir::Attributes a;
  a.set("alpha", slope);
  return emit(l, ir::OpKind::kLeakyRelu, in, std::move(a));
}

// ACROSS_CHANNELS is ONNX's LRN (k as the bias). WITHIN_CHANNEL is the IR's within_channel
// region: Caffe composes it as x * (1 + alpha * avgpool(x^2))^-beta with a size x size
// average pool (pad (size-1)/2, stride 1, the padding counted, so the divisor is size^2):
// the shift is always 1 and k is not read.
Status CaffeGraphBuilder::lrn(const LayerParameter& l) {
  const auto& p = l.lrn_param();
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  const bool within = p.norm_region() == inferd_caffe::LRNParameter::WITHIN_CHANNEL;
  if (p.local_size() % 2 == 0)
    return invalid_argument("local_size " + std::to_string(p.local_size()) + " is even (Caffe takes odd sizes only)");
  ir::Attributes a;
  a.set("size", static_cast<int64_t>(p.local_size()));
  a.set("alpha", p.alpha());
  a.set("beta", p.beta());
  a.set("bias", within ? 1.0f : p.k());
  if (within) a.set("region", std::string("within_channel"));
  return emit(l, ir::OpKind::kLRN, in, std::move(a));
}

Status CaffeGraphBuilder::concat(const LayerParameter& l) {
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  const auto& p = l.concat_param();
  ir::Attributes a;
  a.set("axis", static_cast<int64_t>(p.has_axis() || !p.has_concat_dim() ? p.axis() : p.concat_dim()));
  return emit(l, ir::OpKind::kConcat, in, std::move(a));
}

Status CaffeGraphBuilder::flatten_or_softmax(const LayerParameter& l) {
  const bool flatten = l.type() == "Flatten";
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  const int64_t axis = flatten ? l.flatten_param().axis() : l.softmax_param().axis();
  if (axis != 1) return unimplemented("axis " + std::to_string(axis) + " (only 1)");
  if (flatten && l.flatten_param().end_axis() != -1) return unimplemented("end_axis other than -1");
  ir::Attributes a;
  if (flatten) {
    a.set("axis", axis);
    return emit(l, ir::OpKind::kFlatten, in, std::move(a));
  }
  // Softmax over the channels of [N, C, 1, 1] (a classifier's global-pooled head) is the
  // softmax of [N, C]: flattened first, so the output is the [N, classes] of a classifier.
  if (l.top_size() != 1) return invalid_argument("must have exactly one output");
  a.set("axis", int64_t{-1});
  return emit(l, ir::OpKind::kSoftmax, {flattened(l, in[0])}, std::move(a));
}

// Caffe's BatchNorm stores running sums: mean and variance are blobs 0 and 1 divided by
// the scale factor in blob 2 (0 means "no statistics yet": both zero, as Caffe does).
Status CaffeGraphBuilder::batch_norm(const LayerParameter& l) {
  const auto& p = l.batch_norm_param();
  if (p.has_use_global_stats() && !p.use_global_stats())
    return unimplemented("use_global_stats: false (batch statistics are for training)");
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  ASSIGN_OR_RETURN(auto mean, blob_values(l, 0, "mean"));
  ASSIGN_OR_RETURN(auto var, blob_values(l, 1, "variance"));
  ASSIGN_OR_RETURN(auto factor, blob_values(l, 2, "scale factor"));
  if (mean.empty() || mean.size() != var.size())
    return invalid_argument("mean and variance hold " + std::to_string(mean.size()) + " and " +
                            std::to_string(var.size()) + " values");
  if (factor.size() != 1) return invalid_argument("the scale factor blob holds " + std::to_string(factor.size()) + " values");
  const float k = factor[0] == 0.0f ? 0.0f : 1.0f / factor[0];
  for (float& m : mean) m *= k;
  for (float& v : var) v *= k;
  const size_t c = mean.size();  // before the moves below: argument order is unspecified
  return per_channel_affine(l, in[0], std::vector<float>(c, 1.0f), std::vector<float>(c, 0.0f), std::move(mean),
                            std::move(var), p.eps());
}

// y = gamma * x (+ beta) per channel: a BatchNormalization with mean 0, variance 1.
Status CaffeGraphBuilder::scale(const LayerParameter& l) {
  const auto& p = l.scale_param();
  if (l.bottom_size() != 1) return unimplemented("Scale with the scale as a second input");
  if (p.axis() != 1 || p.num_axes() != 1) return unimplemented("a scale over other than the channel axis");
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  ASSIGN_OR_RETURN(auto gamma, blob_values(l, 0, "scale"));
  std::vector<float> beta(gamma.size(), 0.0f);
  if (p.bias_term()) {
    ASSIGN_OR_RETURN(beta, blob_values(l, 1, "bias"));
    if (beta.size() != gamma.size())
      return invalid_argument("scale and bias hold " + std::to_string(gamma.size()) + " and " +
                              std::to_string(beta.size()) + " values");
  }
  const size_t c = gamma.size();
  return per_channel_affine(l, in[0], std::move(gamma), std::move(beta), std::vector<float>(c, 0.0f),
                            std::vector<float>(c, 1.0f), 0.0f);
}

// Caffe's 0 (copy) and -1 (infer) mean what ONNX Reshape's do. The batch stays dynamic,
// so dim 0 must be 0, or -1 with every other dim given.
Status CaffeGraphBuilder::reshape(const LayerParameter& l) {
  const auto& p = l.reshape_param();
  if (p.axis() != 0 || p.num_axes() != -1) return unimplemented("Reshape of part of the axes (axis/num_axes)");
  ASSIGN_OR_RETURN(auto in, bottoms(l, 1));
  std::vector<int64_t> dims(p.shape().dim().begin(), p.shape().dim().end());
  if (dims.empty()) return invalid_argument("has no shape");
  if (dims[0] == -1 && std::count(dims.begin(), dims.end(), int64_t{-1}) == 1) dims[0] = 0;
  if (dims[0] != 0)
    return unimplemented("a Reshape that sets the batch dimension (dim 0 must be 0, or -1 with the others given)");
  const Shape shape_of_shape{static_cast<int64_t>(dims.size())};
  const ir::ValueId shape = graph_.add_constant(graph_.unique_value_name(l.name() + "_shape"),
                                                Tensor::from_int64s(shape_of_shape, dims));
  return emit(l, ir::OpKind::kReshape, {in[0], shape}, {});
}

// Dropout (identity at inference) and Split: every top names the bottom's value.
Status CaffeGraphBuilder::pass_through(const LayerParameter& l) {
  // Not marked read: the value is read only if a later layer reads one of the tops.
  ASSIGN_OR_RETURN(ir::ValueId in, bottom(l, 0));
  if (l.top_size() < 1) return invalid_argument("has no output");
  for (const auto& top : l.top()) define(top, in);
  return Status::ok();
}

}  // namespace inferd::caffe
